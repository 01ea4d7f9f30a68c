// The Training form as the user left it, per project, kept in the browser's storage so it survives a reload or a
// restart. What comes back from storage is checked against the form's shape; anything else is dropped.
import { z } from 'zod'
import { optimizerSchema, recipeNameSchema } from '@shared/runConfig'
import type { TrainingFormValue } from './trainingForm'

const autoNumber = z.number().finite().nullable()
const trainingFormSchema: z.ZodType<TrainingFormValue> = z
  .object({
    recipe: recipeNameSchema,
    baseId: z.string(),
    weights: z.enum(['official', 'random', 'file']),
    weightsPath: z.string(),
    epochs: autoNumber,
    batchSize: autoNumber,
    lr: autoNumber,
    optimizer: optimizerSchema,
    dense: z.number().finite(),
    dropout: z.number().finite(),
    l2: z.number().finite(),
    seed: z.number().finite(),
    fineTune: z.boolean().nullable(),
    fineTuneAt: z.number().finite(),
    fineTuneEpochs: autoNumber,
    fineTuneLr: autoNumber,
    headLrMultiplier: z.number().finite(),
    fineTuneOptimizer: optimizerSchema,
    earlyStop: z.boolean().nullable(),
    earlyStopPatience: autoNumber,
    evaluateTrain: z.boolean()
  })
  .strict()

const keyOf = (projectKey: string): string => `tunelab.trainingForm.${projectKey}`

function storage(): Storage | null {
  try {
    return globalThis.localStorage ?? null
  } catch {
    return null // storage disabled: drafts live in memory only
  }
}

export function loadDraft(projectKey: string): TrainingFormValue | null {
  const raw = storage()?.getItem(keyOf(projectKey))
  if (!raw) return null
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch {
    parsed = null
  }
  const form = trainingFormSchema.safeParse(parsed)
  if (form.success) return form.data
  storage()?.removeItem(keyOf(projectKey)) // an older app's or a damaged draft: the form starts from defaults
  return null
}

export function saveDraft(projectKey: string, form: TrainingFormValue | null): void {
  try {
    if (form) storage()?.setItem(keyOf(projectKey), JSON.stringify(form))
    else storage()?.removeItem(keyOf(projectKey))
  } catch {
    // A full or disabled storage only loses the draft, not the form on screen.
  }
}
