/**
 * A read-only HTTP file server on 127.0.0.1 for benchmark data that functions
 * download by URL (120.uploader): SeBS fetched these from the internet, which
 * made runs flaky (SeBS issue #317); we serve deterministic files ourselves.
 */
import { createReadStream, statSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { resolve, sep } from 'node:path'

export interface FileServer {
  url: string
  close(): Promise<void>
}

export async function startFileServer(root: string): Promise<FileServer> {
  const base = resolve(root)
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end()
      return
    }
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)
    const file = resolve(base, '.' + path)
    if (file !== base && !file.startsWith(base + sep)) {
      res.writeHead(403).end()
      return
    }
    let size: number
    try {
      const st = statSync(file)
      if (!st.isFile()) throw new Error('not a file')
      size = st.size
    } catch {
      res.writeHead(404).end()
      return
    }
    res.writeHead(200, { 'content-length': size, 'content-type': 'application/octet-stream' })
    if (req.method === 'HEAD') {
      res.end()
      return
    }
    createReadStream(file).pipe(res)
  })
  await new Promise<void>((ok, fail) => {
    server.once('error', fail)
    server.listen(0, '127.0.0.1', () => ok())
  })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections()
        server.close(() => ok())
      }),
  }
}
