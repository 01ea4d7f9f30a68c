import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ScanResult, ScannedImage, SplitName } from '@shared/domain'

export function makeTempDir(prefix = 'tunelab-store-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

export function image(
  path: string,
  className: string,
  folderSplit: SplitName | null = null,
  hash = `h-${path}`
): ScannedImage {
  return { path, className, folderSplit, hash, width: 64, height: 48, bytes: 1234 }
}

/** A small flat-layout scan: `perClass` images per class named <class>/<class>-<i>.jpg. */
export function flatScan(root: string, classes: string[], perClass: number, unreadable: string[] = []): ScanResult {
  const images = classes.flatMap((c) => Array.from({ length: perClass }, (_, i) => image(`${c}/${c}-${i}.jpg`, c)))
  return {
    root,
    layout: 'flat',
    folderSplits: [],
    classes: classes.map((name) => ({ name, counts: { all: perClass }, total: perClass })),
    images,
    unreadable: unreadable.map((path) => ({ path, reason: 'unsupported format' })),
    leakage: [],
    seconds: 0.01
  }
}
