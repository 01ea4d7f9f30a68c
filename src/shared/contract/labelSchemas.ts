// Schemas of the label-override channels (labels.*), the apply-to-folders plan and the image-by-image run diff.
import { z } from 'zod'
import { imageIdSchema, projectKeySchema, runIdSchema, splitNameSchema } from './schemas'

export const labelActionSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('relabel'), to: z.string().min(1) }).strict(),
  z.object({ kind: z.literal('exclude') }).strict()
])
export type LabelActionView = z.infer<typeof labelActionSchema>

export const labelOverrideSchema = z.object({
  /** Null when the file is not among the present images (moved out of the project, deleted, content changed). */
  imageId: imageIdSchema.nullable(),
  relPath: z.string(),
  contentHash: z.string(),
  originalClass: z.string(),
  /** Null when excluded. */
  newClass: z.string().nullable(),
  excluded: z.boolean(),
  note: z.string().nullable(),
  createdAt: z.string(),
  actionId: z.number().int(),
  /** The folder already says what the override says (apply-labels moved the file). */
  applied: z.boolean()
})
export type LabelOverrideView = z.infer<typeof labelOverrideSchema>

export const labelCountsSchema = z.object({ relabelled: z.number().int(), excluded: z.number().int() })
export type LabelCountsView = z.infer<typeof labelCountsSchema>

export const labelStateSchema = z.object({
  overrides: z.array(labelOverrideSchema),
  counts: labelCountsSchema,
  /** The action labels.undo without an id would undo; null when there is none. */
  undoable: z
    .object({ actionId: z.number().int(), kind: z.enum(['relabel', 'exclude', 'clear']), images: z.number().int() })
    .nullable(),
  /** The last apply to the folders that "undo apply" would put back; null when there is none. */
  lastApply: z.object({ files: z.number().int(), at: z.string() }).nullable()
})
export type LabelStateView = z.infer<typeof labelStateSchema>

export const labelsSetRequestSchema = z
  .object({
    projectKey: projectKeySchema,
    imageIds: z.array(imageIdSchema).min(1).max(10_000),
    action: labelActionSchema,
    note: z.string().max(2000).optional()
  })
  .strict()

export const applyMoveSchema = z.object({
  from: z.string(),
  to: z.string(),
  reason: z.enum(['relabel', 'exclude']),
  /** The destination name got a suffix because the plain name was taken. */
  renamed: z.boolean()
})

export const applyPlanSchema = z.object({
  moves: z.array(applyMoveSchema),
  /** Overrides with nothing to move (already applied, or their file is gone). */
  skipped: z.array(z.object({ relPath: z.string(), reason: z.string() }))
})
export type ApplyPlanView = z.infer<typeof applyPlanSchema>

export const applyResultSchema = z.object({
  moved: z.number().int(),
  journal: z.string(),
  moves: z.array(applyMoveSchema)
})

const diffImageSchema = z.object({
  imageId: imageIdSchema,
  relPath: z.string(),
  split: splitNameSchema,
  trueA: z.string(),
  predictedA: z.string(),
  confidenceA: z.number(),
  trueB: z.string(),
  predictedB: z.string(),
  confidenceB: z.number()
})
export type DiffImageView = z.infer<typeof diffImageSchema>

export const runDiffSchema = z.object({
  runA: runIdSchema,
  runB: runIdSchema,
  splits: z.array(splitNameSchema),
  /** Images both runs evaluated. */
  common: z.number().int(),
  /** Of those, the ones with the same label in both runs: the accuracies, flips and McNemar's test are on these. */
  sameLabel: z.number().int(),
  accuracyA: z.number().nullable(),
  accuracyB: z.number().nullable(),
  wrongToRight: z.array(diffImageSchema),
  rightToWrong: z.array(diffImageSchema),
  /** Images whose true class differs between the runs (relabelled in between). */
  relabelled: z.array(diffImageSchema),
  /** Evaluated by A only (e.g. excluded before B), and by B only. */
  onlyA: z.array(
    z.object({ imageId: imageIdSchema, relPath: z.string(), trueClass: z.string(), excluded: z.boolean() })
  ),
  onlyB: z.array(z.object({ imageId: imageIdSchema, relPath: z.string(), trueClass: z.string() })),
  perClass: z.array(
    z.object({
      className: z.string(),
      countA: z.number().int(),
      accuracyA: z.number().nullable(),
      countB: z.number().int(),
      accuracyB: z.number().nullable(),
      delta: z.number().nullable()
    })
  ),
  /** McNemar's exact test on the flipped pairs (b = right→wrong, c = wrong→right). */
  mcnemar: z.object({ b: z.number().int(), c: z.number().int(), pValue: z.number() })
})
export type RunDiffView = z.infer<typeof runDiffSchema>

export const labelChannels = {
  /** Relabels or excludes images as one undoable action; stored at once, the files are not touched. */
  'labels.set': { request: labelsSetRequestSchema, response: labelStateSchema.extend({ actionId: z.number().int() }) },
  /** Undoes one action (default: the latest). */
  'labels.undo': {
    request: z.object({ projectKey: projectKeySchema, actionId: z.number().int().optional() }).strict(),
    response: labelStateSchema.extend({ undoneActionId: z.number().int().nullable() })
  },
  /** Removes every override (itself undoable). */
  'labels.clear': { request: z.object({ projectKey: projectKeySchema }).strict(), response: labelStateSchema },
  'labels.list': { request: z.object({ projectKey: projectKeySchema }).strict(), response: labelStateSchema },
  /** What apply-labels would move; nothing is changed. */
  'labels.applyPlan': { request: z.object({ projectKey: projectKeySchema }).strict(), response: applyPlanSchema },
  /** Moves the files as planned (all or nothing), writing a journal. */
  'labels.apply': { request: z.object({ projectKey: projectKeySchema }).strict(), response: applyResultSchema },
  /** Puts back every file the last apply moved. */
  'labels.applyUndo': { request: z.object({ projectKey: projectKeySchema }).strict(), response: applyResultSchema },
  /** Two runs image by image on the images both evaluated. */
  'runs.diff': {
    request: z
      .object({ projectKey: projectKeySchema, runA: runIdSchema, runB: runIdSchema, split: splitNameSchema.optional() })
      .strict(),
    response: runDiffSchema
  }
} as const
