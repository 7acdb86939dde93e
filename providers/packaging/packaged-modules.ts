/**
 * Which function modules (`storage`, `nosql`) a built cloud zip contains
 * (main process, at deploy): Azure wires the matching connections into the
 * app settings; AWS checks the execution role allows what they use.
 */
import yauzl from 'yauzl'

/** The function modules in `function/` of a zip, from its central directory (nothing is unpacked). */
export async function packagedModules(zipPath: string): Promise<Set<'storage' | 'nosql'>> {
  const found = new Set<'storage' | 'nosql'>()
  const zip = await new Promise<yauzl.ZipFile>((res, rej) => yauzl.open(zipPath, { lazyEntries: true, autoClose: true }, (err, z) => (err || !z ? rej(err) : res(z))))
  await new Promise<void>((res, rej) => {
    zip.on('error', rej)
    zip.on('end', () => res())
    zip.on('entry', (entry: yauzl.Entry) => {
      const m = /^function\/(storage|nosql)\.(?:js|py)$/.exec(entry.fileName)
      if (m) found.add(m[1] as 'storage' | 'nosql')
      zip.readEntry()
    })
    zip.readEntry()
  })
  return found
}
