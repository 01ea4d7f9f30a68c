// The recent-projects list: a small JSON file in the app's data folder, newest first.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { basename, dirname } from 'node:path'
import type { RecentProject } from '@shared/contract'

const MAX_RECENT = 12

interface StoredRecent {
  root: string
  openedAt: string
}

export class RecentProjects {
  constructor(private readonly file: string) {}

  private read(): StoredRecent[] {
    if (!existsSync(this.file)) return []
    try {
      const data: unknown = JSON.parse(readFileSync(this.file, 'utf8'))
      if (!Array.isArray(data)) return []
      return data.filter(
        (e): e is StoredRecent =>
          typeof e === 'object' && e !== null && typeof e.root === 'string' && typeof e.openedAt === 'string'
      )
    } catch {
      // A corrupt list is not worth failing over: it is rebuilt as projects are opened.
      return []
    }
  }

  list(): RecentProject[] {
    return this.read().map((e) => ({
      root: e.root,
      name: basename(e.root),
      openedAt: e.openedAt,
      exists: existsSync(e.root)
    }))
  }

  remember(root: string, at = new Date()): void {
    const entries = [{ root, openedAt: at.toISOString() }, ...this.read().filter((e) => e.root !== root)].slice(
      0,
      MAX_RECENT
    )
    mkdirSync(dirname(this.file), { recursive: true })
    const tmp = `${this.file}.${process.pid}.tmp`
    writeFileSync(tmp, JSON.stringify(entries, null, 2))
    renameSync(tmp, this.file)
  }
}
