// A hash of a folder tree (paths, file bytes and folders), leaving out TuneLab's own state folder.
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

export function treeHash(root: string, skip = '.tunelab'): string {
  const h = createHash('sha256')
  const walk = (dir: string, rel: string): void => {
    for (const d of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (rel === '' && d.name === skip) continue
      const r = rel ? `${rel}/${d.name}` : d.name
      if (d.isDirectory()) {
        h.update(`dir ${r}\n`)
        walk(join(dir, d.name), r)
      } else {
        h.update(`file ${r}\n`)
        h.update(readFileSync(join(dir, d.name)))
      }
    }
  }
  walk(root, '')
  return h.digest('hex')
}
