// The one schema of a training run's configuration: the form's type, the CLI's parsing limits, what training.start
// receives, what is stored with the run and what runs.get returns all come from here.
import { z } from 'zod'

export const OPTIMIZERS = ['adam', 'rmsprop', 'sgd'] as const
export type OptimizerName = (typeof OPTIMIZERS)[number]

export const BACKEND_PREFERENCES = ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const
export type BackendChoice = (typeof BACKEND_PREFERENCES)[number]

export const RECIPE_NAMES = ['auto', 'tf-tutorial', 'pdl-ch3', 'd2l'] as const
export type RecipeName = (typeof RECIPE_NAMES)[number]
export const DEFAULT_RECIPE: RecipeName = 'auto'

export const RESIZE_MODE_NAMES = ['squash', 'center-crop', 'pad'] as const

/** Inclusive bounds of every numeric setting (rates: exclusive lower bound 0). */
export const LIMITS = {
  size: { min: 32, max: 1024 },
  epochs: { min: 0, max: 1000 },
  batchSize: { min: 1, max: 4096 },
  lr: { min: 0, max: 1 },
  momentum: { min: 0, max: 1 },
  dense: { min: 0, max: 65_536 },
  dropout: { min: 0, max: 0.99 },
  l2: { min: 0, max: 10 },
  seed: { min: 0, max: 2 ** 32 - 1 },
  fineTuneAt: { min: 1, max: 100_000 },
  fineTuneEpochs: { min: 0, max: 1000 },
  headLrMultiplier: { min: 0, max: 1000 },
  earlyStopPatience: { min: 1, max: 1000 },
  testFromVal: { min: 0, max: 1 }
} as const
export type LimitedSetting = keyof typeof LIMITS
/** Settings whose lower bound is exclusive (a rate of 0 trains nothing). */
export const EXCLUSIVE_MIN: ReadonlySet<LimitedSetting> = new Set(['lr', 'headLrMultiplier'])
export const INTEGER_SETTINGS: ReadonlySet<LimitedSetting> = new Set([
  'size',
  'epochs',
  'batchSize',
  'dense',
  'seed',
  'fineTuneAt',
  'fineTuneEpochs',
  'earlyStopPatience'
])

function limited(name: LimitedSetting): z.ZodNumber {
  const { min, max } = LIMITS[name]
  let s = z.number()
  if (INTEGER_SETTINGS.has(name)) s = s.int()
  s = EXCLUSIVE_MIN.has(name) ? s.gt(min) : s.min(min)
  return s.max(max)
}

/** A setting's bounds in words, for error messages ("a whole number from 1 to 4096"). */
export function describeLimit(name: LimitedSetting): string {
  const { min, max } = LIMITS[name]
  const kind = INTEGER_SETTINGS.has(name) ? 'a whole number' : 'a number'
  return EXCLUSIVE_MIN.has(name) ? `${kind} > ${min} and ≤ ${max}` : `${kind} from ${min} to ${max}`
}

/** Null when `value` is within the setting's limits, else what is wrong with it. */
export function limitError(name: LimitedSetting, value: number): string | null {
  return limited(name).safeParse(value).success ? null : `must be ${describeLimit(name)}, got ${value}`
}

export const optimizerSchema = z.enum(OPTIMIZERS)
export const recipeNameSchema = z.enum(RECIPE_NAMES)
export const backendChoiceSchema = z.enum(BACKEND_PREFERENCES)
const resizeSchema = z.enum(RESIZE_MODE_NAMES)
const seedSchema = limited('seed')

export const splitStrategySchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('ratios'),
    ratios: z.tuple([z.number().min(0), z.number().min(0), z.number().min(0)]),
    seed: seedSchema
  }),
  z.object({ kind: z.literal('folder'), testFromVal: limited('testFromVal'), seed: seedSchema })
])

export const augmentSpecSchema = z
  .object({
    horizontalFlip: z.boolean(),
    verticalFlip: z.boolean(),
    rotation: z.number().min(0).max(1),
    widthShift: z.number().min(0).max(1),
    heightShift: z.number().min(0).max(1),
    zoom: z.number().min(0).max(1),
    brightness: z.number().min(0).max(1),
    contrast: z.number().min(0).max(1)
  })
  .strict()

/** 'official' = Keras Applications weights from the cache (downloaded first); a path = a local .h5 or TF.js folder; 'random' = no pretraining. */
export const weightsRequestSchema = z.union([
  z.literal('official'),
  z.literal('random'),
  z.object({ path: z.string().min(1) }).strict()
])
export type WeightsRequest = z.infer<typeof weightsRequestSchema>

/**
 * A run as requested (form, CLI or API). Every setting but base and weights may be left out: the recipe (default
 * `auto`) fills it; a setting given explicitly always wins over the recipe.
 */
export const runConfigSchema = z
  .object({
    recipe: recipeNameSchema.optional(),
    name: z.string().max(200).optional(),
    baseId: z.string().min(1),
    weights: weightsRequestSchema,
    /** Input size overriding the one in baseId. */
    size: limited('size').optional(),
    resizeMode: resizeSchema.optional(),
    /** Left out: the project's stored split, else the folder's own split (pre-split folders) or 80/10/10. */
    split: splitStrategySchema.optional(),
    augment: augmentSpecSchema.optional(),
    epochs: limited('epochs').optional(),
    batchSize: limited('batchSize').optional(),
    lr: limited('lr').optional(),
    optimizer: optimizerSchema.optional(),
    momentum: limited('momentum').optional(),
    dense: limited('dense').optional(),
    dropout: limited('dropout').optional(),
    /** L2 penalty on the head's kernels: loss + l2 * sum of their squared weights (0 = none). */
    l2: limited('l2').optional(),
    seed: seedSchema.optional(),
    fineTuneAt: limited('fineTuneAt').optional(),
    /** 0 = no phase 2. */
    fineTuneEpochs: limited('fineTuneEpochs').optional(),
    fineTuneLr: limited('lr').optional(),
    headLrMultiplier: limited('headLrMultiplier').optional(),
    fineTuneOptimizer: optimizerSchema.optional(),
    earlyStopPatience: limited('earlyStopPatience').optional(),
    /** null = plain loss (no class weights). */
    classWeights: z.enum(['balanced']).nullable().optional(),
    backend: backendChoiceSchema.optional(),
    /** Also predict the training images, so the galleries can show mislabelled ones. */
    evaluateTrain: z.boolean().optional()
  })
  .strict()
export type RunConfig = z.infer<typeof runConfigSchema>

/** Every setting the engine ran with, after the recipe, the data-dependent choices and the defaults. */
export const resolvedRunConfigSchema = runConfigSchema
  .required({
    recipe: true,
    resizeMode: true,
    split: true,
    augment: true,
    epochs: true,
    batchSize: true,
    lr: true,
    optimizer: true,
    dropout: true,
    seed: true
  })
  .extend({
    classWeights: z.enum(['balanced']).nullable(),
    classes: z.array(z.string()),
    splitId: z.number().int()
  })
export type ResolvedRunConfig = z.infer<typeof resolvedRunConfigSchema>

/** One decision a recipe made from the data (shown in the log, the form, the Runs table). */
export const runChoiceSchema = z.object({ setting: z.string(), value: z.string(), why: z.string() })
export type RunChoice = z.infer<typeof runChoiceSchema>

/** What a run stores as its config: what was received, what ran, and why. */
export const storedRunConfigSchema = z.object({
  recipe: recipeNameSchema,
  received: runConfigSchema,
  resolved: resolvedRunConfigSchema,
  choices: z.array(runChoiceSchema)
})
export type StoredRunConfig = z.infer<typeof storedRunConfigSchema>

type Legacy = Record<string, unknown>

/** Stored configs of runs from before the stored shape above: the TrainOptions object, weights as {kind}. */
function fromLegacy(c: Legacy): StoredRunConfig | null {
  const w = c['weights'] as { kind?: string; path?: string } | string | undefined
  const weights: WeightsRequest =
    typeof w === 'object' && w?.kind === 'file' && typeof w.path === 'string'
      ? { path: w.path }
      : (typeof w === 'object' && w?.kind === 'random') || w === 'random'
        ? 'random'
        : typeof w === 'object' && typeof w?.path === 'string'
          ? { path: w.path }
          : 'official'
  const keys = Object.keys(runConfigSchema.shape) as (keyof RunConfig)[]
  const picked: Legacy = { weights, recipe: 'tf-tutorial' }
  for (const k of keys) if (k !== 'weights' && k !== 'recipe' && c[k] !== undefined) picked[k] = c[k]
  if (picked['split'] === 'reuse' || picked['split'] === undefined) picked['split'] = c['strategy']
  const received = runConfigSchema.safeParse(picked)
  if (!received.success) return null
  const resolved = resolvedRunConfigSchema.safeParse({
    ...received.data,
    classWeights: received.data.classWeights ?? null,
    classes: c['classes'],
    splitId: c['splitId']
  })
  if (!resolved.success) return null
  return { recipe: 'tf-tutorial', received: received.data, resolved: resolved.data, choices: [] }
}

/** The typed config of a stored run (older runs' configs converted); null when it is not a training config. */
export function parseStoredRunConfig(json: unknown): StoredRunConfig | null {
  if (typeof json !== 'object' || json === null) return null
  const parsed = storedRunConfigSchema.safeParse(json)
  if (parsed.success) return parsed.data
  if ('received' in json) return null
  return fromLegacy(json as Legacy)
}
