// The sample data beside the repository (../shared/data: cats_and_dogs_filtered and real ImageNet weights).
// Tests that need it are skipped when it is absent, so a fresh clone without it still passes.
import { fileURLToPath } from 'node:url'
import { resolve } from 'node:path'

const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..')

/** TUNELAB_SHARED_DATA overrides it (point it at a missing folder to run the suite as a fresh clone would). */
export const SHARED_DATA = process.env['TUNELAB_SHARED_DATA'] ?? resolve(REPO, '../shared/data')
