/**
 * Docker support shared by the local provider's container runtime and the
 * cloud packagers (see README.md): engine checks, offline base images,
 * dependency installs in a build image.
 */
export { DOCKER_START_HINT, createDockerClient, describeDockerHost, dockerAvailable, requireDocker, type DockerAvailability } from './client.ts'
export {
  BASE_IMAGE_REPOSITORY,
  baseImageKey,
  buildBaseImage,
  dockerBaseCommand,
  type BaseImageKey,
  type BuiltBaseImage,
} from './base-image.ts'
export { baseImageHint, officialImage, resolveRuntimeImage, type ResolvedImage } from './images.ts'
export { BUILD_MOUNT, installDependenciesInImage, type InstallInImageOptions } from './build-image.ts'
