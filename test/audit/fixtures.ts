// Copies of the shared real data with known defects planted, for the audit's acceptance checks.
import { chmodSync, cpSync, mkdirSync, readdirSync, renameSync, statSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { createRng } from '@core/util/rng'

/** Copies a folder and makes the copy writable (the shared data is read-only; its state folder goes inside). */
export function writableCopy(src: string, dest: string): void {
  cpSync(src, dest, { recursive: true })
  const walk = (p: string): void => {
    const dir = statSync(p).isDirectory()
    chmodSync(p, dir ? 0o755 : 0o644)
    if (dir) for (const name of readdirSync(p)) walk(join(p, name))
  }
  walk(dest)
}

/** Copies `src` to `dest` and moves `fraction` of train/<class> files (seeded) into the other class' folder. */
export function copyWithFlippedLabels(src: string, dest: string, fraction: number, seed: number): string[] {
  writableCopy(src, dest)
  const classes = readdirSync(join(dest, 'train')).sort()
  const all = classes.flatMap((c) =>
    readdirSync(join(dest, 'train', c))
      .sort()
      .map((f) => ({ c, f }))
  )
  const rng = createRng(seed)
  const chosen = rng.shuffle([...all]).slice(0, Math.round(all.length * fraction))
  return chosen.map(({ c, f }) => {
    const to = classes[(classes.indexOf(c) + 1) % classes.length] as string
    const name = `flipped_${f}`
    renameSync(join(dest, 'train', c, f), join(dest, 'train', to, name))
    return `train/${to}/${name}`
  })
}

export interface PlantedDuplicate {
  original: string
  copy: string
}

/**
 * Copies `src` to `dest` (unless `src` is `dest`: then in place) and puts `count` altered copies of train images into the validation folders of the
 * same class: re-encoded (JPEG quality 60), resized (to 70 %) or cropped (4 % off every side), in turn.
 */
export async function copyWithNearDuplicates(
  src: string,
  dest: string,
  count: number,
  seed: number
): Promise<PlantedDuplicate[]> {
  if (src !== dest) writableCopy(src, dest)
  const classes = readdirSync(join(dest, 'train')).sort()
  const rng = createRng(seed)
  const planted: PlantedDuplicate[] = []
  for (let i = 0; i < count; i++) {
    const c = classes[i % classes.length] as string
    // Not a file whose label was flipped on purpose (that would be a label issue as well).
    const files = readdirSync(join(dest, 'train', c))
      .filter((n) => !n.startsWith('flipped_') && !planted.some((p) => p.original === `train/${c}/${n}`))
      .sort()
    const f = files[rng.int(files.length)] as string
    const input = sharp(join(dest, 'train', c, f))
    const meta = await input.metadata()
    const w = meta.width ?? 0
    const h = meta.height ?? 0
    const kind = i % 3
    const altered =
      kind === 0
        ? input.jpeg({ quality: 60 })
        : kind === 1
          ? input.resize(Math.round(w * 0.7), Math.round(h * 0.7)).jpeg({ quality: 90 })
          : input
              .extract({
                left: Math.round(w * 0.04),
                top: Math.round(h * 0.04),
                width: Math.round(w * 0.92),
                height: Math.round(h * 0.92)
              })
              .jpeg({ quality: 90 })
    const name = `dup${i}_${['reencoded', 'resized', 'cropped'][kind]}_${f.replace(/\.[^.]+$/, '')}.jpg`
    mkdirSync(join(dest, 'validation', c), { recursive: true })
    await altered.toFile(join(dest, 'validation', c, name))
    planted.push({ original: `train/${c}/${f}`, copy: `validation/${c}/${name}` })
  }
  return planted
}
