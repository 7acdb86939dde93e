/**
 * Labels on everything this suite creates in Docker, so that a sweep can
 * find it again (CONVENTIONS.md §9: testcontainers labels every container
 * with its session).
 */

/** On every container and image the suite creates. */
export const LABEL_MANAGED = 'org.sebs.managed'
/** What the object is: `function-instance`, `build`, `base-image`, `image-check`. */
export const LABEL_KIND = 'org.sebs.kind'
/** The run that created a function container. */
export const LABEL_RUN_ID = 'org.sebs.run-id'
/** The deployed function a container is an instance of. */
export const LABEL_FUNCTION = 'org.sebs.function'
/** The instance id (also in the container's SEBS_INSTANCE_ID). */
export const LABEL_INSTANCE = 'org.sebs.instance'
/** The process that started a container (pid@hostname): diagnostics only. */
export const LABEL_OWNER = 'org.sebs.owner'
/** Base images: the content hash of their inputs, and what they hold. */
export const LABEL_BASE_HASH = 'org.sebs.base.hash'
export const LABEL_BASE_LANGUAGE = 'org.sebs.base.language'
export const LABEL_BASE_RUNTIME = 'org.sebs.base.runtime'
/** The interpreter binary a base image was built from (older builds of it are pruned). */
export const LABEL_BASE_EXECUTABLE = 'org.sebs.base.executable'

export type ContainerKind = 'function-instance' | 'build' | 'image-check'
