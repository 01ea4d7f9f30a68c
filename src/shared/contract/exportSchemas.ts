// Schemas of the export channels (Results -> Export…): request, result with the second-runtime check, progress.
import { z } from 'zod'
import { projectKeySchema, runIdSchema } from './schemas'

export const exportFormatSchema = z.enum(['tfjs', 'onnx'])
export type ExportFormatView = z.infer<typeof exportFormatSchema>

export const exportRequestSchema = z
  .object({
    projectKey: projectKeySchema,
    runId: runIdSchema,
    formats: z.array(exportFormatSchema).min(1),
    /** Absolute path of the destination folder (created; a previous export there needs force). */
    out: z.string().min(1),
    force: z.boolean().optional()
  })
  .strict()

export const exportCheckSchema = z.object({
  format: exportFormatSchema,
  runtime: z.string(),
  images: z.number().int(),
  source: z.string(),
  maxAbsDiff: z.number(),
  agreement: z.number(),
  tolerance: z.number(),
  passed: z.boolean()
})
export type ExportCheckView = z.infer<typeof exportCheckSchema>

export const exportResultSchema = z.object({
  dir: z.string(),
  files: z.array(z.string()),
  checks: z.array(exportCheckSchema),
  skippedImages: z.number().int(),
  /** TuneLab's predict at export time vs the run's stored evaluation (informative). */
  storedPredictions: z.object({ images: z.number().int(), maxAbsDiff: z.number(), agreement: z.number() }).nullable()
})
export type ExportResultView = z.infer<typeof exportResultSchema>

export const exportProgressSchema = z.object({
  projectKey: projectKeySchema,
  runId: runIdSchema,
  stage: z.string(),
  detail: z.string(),
  done: z.number().int().optional(),
  total: z.number().int().optional()
})
export type ExportProgressView = z.infer<typeof exportProgressSchema>
