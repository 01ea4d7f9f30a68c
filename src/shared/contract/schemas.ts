// Runtime schemas of the data the channels carry. Types are inferred from them (z.infer), so schema and type
// cannot drift; the few that mirror src/shared/domain.ts are checked against it in contract/checks.ts.
import { z } from 'zod'
import { runConfigSchema, splitStrategySchema, storedRunConfigSchema, type RunConfig } from '../runConfig'

export const splitNameSchema = z.enum(['train', 'validation', 'test'])
export const layoutSchema = z.enum(['flat', 'presplit'])
export const resizeModeSchema = z.enum(['squash', 'center-crop', 'pad'])
export const runStatusSchema = z.enum(['running', 'completed', 'cancelled', 'failed', 'interrupted'])

/** Opaque key of an open project (a hash of its absolute root); image URLs and most requests carry it. */
export const projectKeySchema = z.string().regex(/^[0-9a-f]{16}$/, 'projectKey must be 16 lowercase hex digits')
export const imageIdSchema = z.number().int().positive()
export const runIdSchema = z.number().int().positive()
export { splitStrategySchema }
export { augmentSpecSchema, optimizerSchema, recipeNameSchema, runChoiceSchema } from '../runConfig'

const splitCountsSchema = z.object({ train: z.number().int(), validation: z.number().int(), test: z.number().int() })
export type SplitCounts = z.infer<typeof splitCountsSchema>
export { splitCountsSchema }

export const classCountsSchema = z.object({
  name: z.string(),
  counts: z.object({ train: z.number(), validation: z.number(), test: z.number(), all: z.number() }).partial(),
  total: z.number().int()
})

export const leakageGroupSchema = z.object({
  hash: z.string(),
  paths: z.array(z.string()),
  splits: z.array(splitNameSchema)
})

/** What the Projects screen shows about a scan. */
export const scanViewSchema = z.object({
  layout: layoutSchema,
  folderSplits: z.array(splitNameSchema),
  classes: z.array(classCountsSchema),
  images: z.number().int(),
  unreadable: z.array(z.object({ path: z.string(), reason: z.string() })),
  leakage: z.array(leakageGroupSchema),
  seconds: z.number(),
  scannedAt: z.string(),
  /** Label overrides in force; `classes` counts are after them (excluded images left out, relabelled ones moved). */
  overrides: z.object({ relabelled: z.number().int(), excluded: z.number().int() }).optional()
})
export type ScanView = z.infer<typeof scanViewSchema>

export const projectInfoSchema = z.object({
  projectKey: projectKeySchema,
  root: z.string(),
  name: z.string(),
  /** Where TuneLab keeps this project's database and caches. */
  stateDir: z.string(),
  /** True when <root>/.tunelab was not writable and the user data folder is used. */
  stateFallback: z.boolean(),
  /** Why the project's state cannot be written, or null: when set, its history is shown but nothing can be saved. */
  stateReadOnly: z.string().nullable(),
  /** Latest stored scan summary; null before the first project.scan. Unreadable/leakage lists come with project.scan. */
  lastScan: z
    .object({
      layout: layoutSchema,
      images: z.number().int(),
      unreadable: z.number().int(),
      leakageGroups: z.number().int(),
      classes: z.array(classCountsSchema),
      scannedAt: z.string().nullable()
    })
    .nullable(),
  /** Runs that were found running by a dead process and marked interrupted while opening. */
  recoveredRuns: z.array(z.object({ runId: runIdSchema, reason: z.string() }))
})
export type ProjectInfo = z.infer<typeof projectInfoSchema>

export const recentProjectSchema = z.object({
  root: z.string(),
  name: z.string(),
  openedAt: z.string(),
  exists: z.boolean()
})
export type RecentProject = z.infer<typeof recentProjectSchema>

export const imageInfoSchema = z.object({
  imageId: imageIdSchema,
  relPath: z.string(),
  className: z.string().nullable(),
  split: splitNameSchema.nullable(),
  folderSplit: splitNameSchema.nullable(),
  width: z.number().int().nullable(),
  height: z.number().int().nullable()
})
export type ImageInfo = z.infer<typeof imageInfoSchema>

export const splitPreviewSchema = z.object({
  classes: z.array(z.string()),
  /** counts[className][split]. */
  counts: z.record(z.string(), splitCountsSchema),
  totals: splitCountsSchema,
  /** Identical files that this split would put in different splits. */
  leakage: z.array(leakageGroupSchema)
})
export type SplitPreview = z.infer<typeof splitPreviewSchema>

export const storedSplitViewSchema = splitPreviewSchema.extend({
  splitId: z.number().int(),
  strategy: splitStrategySchema,
  createdAt: z.string()
})
export type StoredSplitView = z.infer<typeof storedSplitViewSchema>

export const modelInfoSchema = z.object({
  id: z.string(),
  family: z.enum(['mobilenet_v2', 'mobilenet_v1', 'resnet50_v2']),
  alpha: z.number(),
  size: z.number().int(),
  layers: z.number().int(),
  /** Trainable + non-trainable parameters of the no-top base. */
  params: z.number().int().nullable(),
  outputShape: z.tuple([z.number(), z.number(), z.number()]),
  defaultFineTuneAt: z.number().int(),
  defaultFineTuneAtLayer: z.string(),
  weightsFile: z.string().nullable(),
  weightsCached: z.boolean(),
  weightsUrl: z.string().nullable()
})
export type ModelInfo = z.infer<typeof modelInfoSchema>

/** Everything a training run needs besides the project: the one run-config schema (src/shared/runConfig.ts). */
export const trainingConfigSchema = runConfigSchema
export type TrainingConfig = RunConfig

export const trainPhaseSchema = z.enum(['head', 'fine-tune'])

export const epochSchema = z.object({
  phase: z.union([z.literal(1), z.literal(2)]),
  epoch: z.number().int(),
  loss: z.number().nullable(),
  accuracy: z.number().nullable(),
  valLoss: z.number().nullable(),
  valAccuracy: z.number().nullable(),
  lr: z.number().nullable(),
  seconds: z.number().nullable(),
  imagesPerSec: z.number().nullable()
})
export type EpochView = z.infer<typeof epochSchema>

/** Progress of one run, pushed as the 'training.progress' event. */
export const trainingProgressSchema = z.object({
  projectKey: projectKeySchema,
  runId: runIdSchema,
  event: z.discriminatedUnion('type', [
    z.object({
      type: z.literal('phase'),
      phase: trainPhaseSchema,
      epochs: z.number().int(),
      fineTuneAt: z.number().int().nullable(),
      detail: z.string(),
      /** The run log's line for this phase, worded as the CLI prints it. */
      line: z.string()
    }),
    z.object({
      type: z.literal('features'),
      split: z.enum(['train', 'validation']),
      done: z.number().int(),
      total: z.number().int()
    }),
    /** Phase 2: the frozen lower part's activations, computed once per image before the first fine-tuning epoch. */
    z.object({
      type: z.literal('activations'),
      split: z.enum(['train', 'validation']),
      done: z.number().int(),
      total: z.number().int()
    }),
    z.object({
      type: z.literal('batch'),
      phase: trainPhaseSchema,
      epoch: z.number().int(),
      batch: z.number().int(),
      batches: z.number().int(),
      loss: z.number(),
      accuracy: z.number(),
      imagesPerSec: z.number(),
      etaSeconds: z.number()
    }),
    z.object({ type: z.literal('epoch'), epoch: epochSchema }),
    z.object({ type: z.literal('info'), message: z.string() }),
    /** The model now holds this epoch's weights (early stopping restored it, or phase 1 was kept over phase 2). */
    z.object({ type: z.literal('kept'), epoch: z.number().int(), message: z.string() }),
    z.object({ type: z.literal('backend'), name: z.string(), notes: z.array(z.string()) }),
    z.object({ type: z.literal('done'), status: runStatusSchema, error: z.string().nullable() })
  ])
})
export type TrainingProgress = z.infer<typeof trainingProgressSchema>
export type TrainingProgressEvent = TrainingProgress['event']

export const runSummarySchema = z.object({
  runId: runIdSchema,
  name: z.string().nullable(),
  status: runStatusSchema,
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  baseId: z.string().nullable(),
  backend: z.string().nullable(),
  classes: z.array(z.string()),
  epochs: z.number().int(),
  bestValAccuracy: z.number().nullable(),
  bestEpoch: z.number().int().nullable(),
  error: z.string().nullable()
})
export type RunSummary = z.infer<typeof runSummarySchema>

const jsonSchema: z.ZodType<unknown> = z.unknown()

export const runDetailSchema = z.object({
  run: runSummarySchema,
  /** What the run received, what it ran with and the recipe's choices; null for a config this app cannot read. */
  config: storedRunConfigSchema.nullable(),
  metrics: jsonSchema,
  timings: jsonSchema,
  backendNotes: jsonSchema,
  epochs: z.array(epochSchema),
  /** Splits for which per-image predictions exist. */
  evaluatedSplits: z.array(splitNameSchema)
})
export type RunDetail = z.infer<typeof runDetailSchema>

export const galleryKindSchema = z.enum(['most-confident', 'least-confident', 'confidently-wrong'])
export type GalleryKind = z.infer<typeof galleryKindSchema>

export const galleryItemSchema = z.object({
  imageId: imageIdSchema,
  relPath: z.string(),
  split: splitNameSchema,
  trueClass: z.string(),
  predictedClass: z.string(),
  /** Aligned with the run's classes. */
  probabilities: z.array(z.number()),
  confidence: z.number(),
  margin: z.number(),
  loss: z.number().nullable(),
  correct: z.boolean(),
  present: z.boolean()
})
export type GalleryItemView = z.infer<typeof galleryItemSchema>

export const confusionSchema = z.object({
  classes: z.array(z.string()),
  /** matrix[true][predicted] = count, rows and columns in `classes` order. */
  matrix: z.array(z.array(z.number().int())),
  total: z.number().int(),
  accuracy: z.number().nullable()
})
export type ConfusionView = z.infer<typeof confusionSchema>

export const thresholdPointSchema = z.object({
  threshold: z.number(),
  coverage: z.number(),
  covered: z.number().int(),
  accuracy: z.number().nullable()
})
export type ThresholdPointView = z.infer<typeof thresholdPointSchema>

export const predictionSchema = z.object({
  classes: z.array(z.string()),
  probabilities: z.array(z.number()),
  predictedClass: z.string(),
  confidence: z.number()
})
export type PredictionView = z.infer<typeof predictionSchema>

export const backendInfoSchema = z.object({
  name: z.string(),
  tfBackend: z.string(),
  simd: z.boolean().optional(),
  threads: z.number().optional(),
  skipped: z.array(z.object({ name: z.string(), reason: z.string() }))
})

export const appInfoSchema = z.object({
  version: z.string(),
  transport: z.enum(['electron', 'serve']),
  /** Backend of the last training in this session; null before any. */
  backend: backendInfoSchema.nullable(),
  platform: z.string(),
  node: z.string(),
  electron: z.string().nullable(),
  weightsCacheDir: z.string(),
  /** Whether app.pickFolder works (Electron) or the user types a path (serve mode). */
  canPickFolder: z.boolean(),
  /** Project given on the command line (serve mode) or null. */
  initialProject: z.string().nullable()
})
export type AppInfo = z.infer<typeof appInfoSchema>

export const downloadProgressSchema = z.object({
  id: z.string(),
  bytes: z.number(),
  total: z.number().nullable(),
  bytesPerSecond: z.number(),
  done: z.boolean()
})
export type ModelDownloadProgress = z.infer<typeof downloadProgressSchema>
