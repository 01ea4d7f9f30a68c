// The learning-rate finder's data on the wire: its range, the curve and suggestion it answers, its progress.
import { z } from 'zod'
import { projectKeySchema, trainingConfigSchema } from './schemas'

/** The rates tried and how many mini-batches; the core's defaults (1e-7 .. 10, 200) when omitted. */
export const lrFindRangeSchema = z
  .object({
    startLr: z.number().positive().max(100).optional(),
    endLr: z.number().positive().max(1000).optional(),
    steps: z.number().int().min(20).max(10_000).optional()
  })
  .strict()
  .refine((r) => (r.endLr ?? 10) > (r.startLr ?? 1e-7), { message: 'endLr must be above startLr' })
export type LrFindRange = z.infer<typeof lrFindRangeSchema>

/** One mini-batch of the range test: its rate and the smoothed loss. */
export const lrFindPointSchema = z.object({ lr: z.number().positive(), loss: z.number() })
export type LrFindPointView = z.infer<typeof lrFindPointSchema>

export const lrFindResultSchema = z.object({
  points: z.array(lrFindPointSchema),
  /** fastai's `valley`: about half way down the longest stretch where the loss keeps falling. */
  suggestion: lrFindPointSchema.extend({ method: z.literal('valley') }),
  steepest: lrFindPointSchema.nullable(),
  /** A tenth of the rate at the lowest loss. */
  minimum: lrFindPointSchema.nullable(),
  stoppedBy: z.enum(['end', 'diverged']),
  trainImages: z.number().int(),
  featuresFromDisk: z.number().int(),
  seconds: z.number()
})
export type LrFindResultView = z.infer<typeof lrFindResultSchema>

/** Pushed as the 'training.findLrProgress' event; 'done' carries the result (or why there is none). */
export const lrFindProgressSchema = z.object({
  projectKey: projectKeySchema,
  event: z.discriminatedUnion('type', [
    z.object({ type: z.literal('info'), message: z.string() }),
    z.object({ type: z.literal('features'), done: z.number().int(), total: z.number().int() }),
    z.object({
      type: z.literal('step'),
      step: z.number().int(),
      steps: z.number().int(),
      lr: z.number(),
      loss: z.number()
    }),
    z.object({
      type: z.literal('done'),
      status: z.enum(['completed', 'cancelled', 'failed']),
      result: lrFindResultSchema.nullable(),
      error: z.string().nullable()
    })
  ])
})
export type LrFindProgress = z.infer<typeof lrFindProgressSchema>
export type LrFindProgressEvent = LrFindProgress['event']

export const lrFindChannels = {
  /**
   * Starts the range test for a project with the Training form's settings (base, weights, head, batch size), off
   * the answering thread; progress and then the result come as 'training.findLrProgress' events. One at a time per project.
   */
  'training.findLr': {
    request: z
      .object({ projectKey: projectKeySchema, config: trainingConfigSchema, range: lrFindRangeSchema.optional() })
      .strict(),
    response: z.object({ started: z.literal(true) })
  },
  /** Stops the project's range test after its current mini-batch; false when none is going. */
  'training.cancelFindLr': {
    request: z.object({ projectKey: projectKeySchema }).strict(),
    response: z.object({ cancelled: z.boolean() })
  }
} as const
