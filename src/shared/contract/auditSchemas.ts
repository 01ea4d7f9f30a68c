// Schemas of the label audit's channels and its progress event (audit.*, predict.gradCam).
import { z } from 'zod'
import { imageIdSchema, projectKeySchema, resizeModeSchema, splitNameSchema } from './schemas'

export const findingKindSchema = z.enum(['label', 'duplicate', 'outlier'])

/** What an audit needs: the base and weights whose cached features it reads (as a training run takes them). */
export const auditConfigSchema = z
  .object({
    baseId: z.string().min(1),
    weights: z.union([z.literal('official'), z.object({ path: z.string().min(1) })]),
    resizeMode: resizeModeSchema.optional(),
    folds: z.number().int().min(2).max(20).optional()
  })
  .strict()
export type AuditConfig = z.infer<typeof auditConfigSchema>

export const auditImageSchema = z.object({
  imageId: imageIdSchema,
  relPath: z.string(),
  className: z.string().nullable(),
  split: splitNameSchema.nullable()
})

export const auditFindingSchema = z.object({
  kind: findingKindSchema,
  rank: z.number().int().positive(),
  /** Label issue: how likely mislabelled; duplicate: cosine similarity; outlier: distance from every class. */
  score: z.number(),
  image: auditImageSchema,
  /** The pair's other image (duplicates only). */
  other: auditImageSchema.nullable(),
  /** The class the image most likely belongs to (label issues only). */
  suggested: z.string().nullable(),
  /** A near-duplicate pair across splits (leakage). */
  crossSplit: z.boolean()
})
export type AuditFindingView = z.infer<typeof auditFindingSchema>

export const auditViewSchema = z.object({
  /** The latest audit of the project, or null before the first. */
  audit: z
    .object({
      auditId: z.number().int().positive(),
      createdAt: z.string(),
      baseId: z.string(),
      folds: z.number().int(),
      classes: z.array(z.string()),
      seconds: z.record(z.string(), z.number())
    })
    .nullable(),
  running: z.boolean(),
  labelIssues: z.array(auditFindingSchema),
  nearDuplicates: z.array(auditFindingSchema),
  outliers: z.array(auditFindingSchema)
})
export type AuditView = z.infer<typeof auditViewSchema>

export const auditProgressSchema = z.object({
  projectKey: projectKeySchema,
  event: z.discriminatedUnion('type', [
    z.object({ type: z.literal('stage'), stage: z.string(), detail: z.string() }),
    z.object({ type: z.literal('progress'), stage: z.string(), done: z.number().int(), total: z.number().int() }),
    z.object({
      type: z.literal('done'),
      status: z.enum(['completed', 'cancelled', 'failed']),
      auditId: z.number().int().positive().nullable(),
      error: z.string().nullable()
    })
  ])
})
export type AuditProgress = z.infer<typeof auditProgressSchema>

export const gradCamSchema = z.object({
  classes: z.array(z.string()),
  className: z.string(),
  /** The photo at the model's input size with the heatmap laid over it. */
  overlay: z.string().startsWith('data:image/png;base64,')
})
