// Every channel of the app: its request and response schema. The ONE list both transports and the preload use.
import { z } from 'zod'
import { ERROR_CODES } from './envelope'
import { PREDICT_IMAGE_MAX_BASE64 } from './limits'
import { CHANNEL_NAMES, EVENT_NAMES } from './names'
import { labelChannels } from './labelSchemas'
import { lrFindChannels, lrFindProgressSchema } from './lrFindSchemas'
import {
  appInfoSchema,
  augmentSpecSchema,
  confusionSchema,
  downloadProgressSchema,
  galleryItemSchema,
  galleryKindSchema,
  imageIdSchema,
  imageInfoSchema,
  modelInfoSchema,
  predictionSchema,
  projectInfoSchema,
  projectKeySchema,
  recentProjectSchema,
  resizeModeSchema,
  runDetailSchema,
  runIdSchema,
  runStatusSchema,
  runSummarySchema,
  scanViewSchema,
  splitNameSchema,
  splitPreviewSchema,
  splitStrategySchema,
  storedSplitViewSchema,
  thresholdPointSchema,
  trainingConfigSchema,
  trainingProgressSchema
} from './schemas'
import { exportProgressSchema, exportRequestSchema, exportResultSchema } from './exportSchemas'
import { startupReportSchema } from './startupCheck'
import {
  auditConfigSchema,
  auditProgressSchema,
  auditViewSchema,
  findingKindSchema,
  gradCamSchema
} from './auditSchemas'

const empty = z.object({}).strict()
/** Class and file names are folder/file names: a name longer than any file system allows is a bad request. */
const nameSchema = z.string().max(1024)
const inProject = { projectKey: projectKeySchema }
const inRun = { projectKey: projectKeySchema, runId: runIdSchema }

function channel<Req extends z.ZodTypeAny, Res extends z.ZodTypeAny>(request: Req, response: Res) {
  return { request, response }
}

export const channels = {
  'app.info': channel(empty, appInfoSchema),
  /** Native folder picker (Electron only; 'unsupported' in serve mode). null when the user cancelled. */
  'app.pickFolder': channel(empty, z.object({ path: z.string().nullable() })),
  /** The native modules checked at start (SQLite binding, oneDNN, tfjs-node): what loaded, why not, the fix. */
  'app.startupCheck': channel(empty, startupReportSchema),

  /** Opens (creating its state folder if needed) a project folder and remembers it in the recent list. */
  'project.open': channel(z.object({ path: z.string().min(1).max(4096) }).strict(), projectInfoSchema),
  'project.recent': channel(empty, z.object({ projects: z.array(recentProjectSchema) })),
  /** Scans the folder (classes, unreadable files, duplicates across folder splits) and stores the result. */
  'project.scan': channel(z.object(inProject).strict(), scanViewSchema),

  /** Images of the last scan, optionally of one class / assigned split. */
  'dataset.images': channel(
    z
      .object({
        ...inProject,
        className: nameSchema.optional(),
        split: splitNameSchema.optional(),
        offset: z.number().int().min(0).optional(),
        limit: z.number().int().min(1).max(10_000).optional()
      })
      .strict(),
    z.object({ total: z.number().int(), images: z.array(imageInfoSchema) })
  ),
  /** Counts per class and split that a strategy WOULD give; nothing is stored. */
  'dataset.previewSplit': channel(
    z.object({ ...inProject, strategy: splitStrategySchema }).strict(),
    splitPreviewSchema
  ),
  'dataset.saveSplit': channel(
    z.object({ ...inProject, strategy: splitStrategySchema }).strict(),
    storedSplitViewSchema
  ),
  /** The latest saved split, or null. */
  'dataset.getSplit': channel(z.object(inProject).strict(), storedSplitViewSchema.nullable()),
  /** n augmented versions of one image as PNG data URLs (sample i is stable as n grows). */
  'dataset.augmentPreview': channel(
    z
      .object({
        ...inProject,
        imageId: imageIdSchema,
        spec: augmentSpecSchema,
        n: z.number().int().min(1).max(64),
        seed: z.number().int().min(0),
        size: z.number().int().min(32).max(512).optional(),
        resizeMode: resizeModeSchema.optional()
      })
      .strict(),
    z.object({ images: z.array(z.string().startsWith('data:image/png;base64,')) })
  ),

  'models.list': channel(empty, z.object({ models: z.array(modelInfoSchema) })),
  /** Downloads (or finds cached) the official weights; progress comes as 'models.downloadProgress' events. */
  'models.download': channel(
    z.object({ id: z.string().min(1) }).strict(),
    z.object({ id: z.string(), path: z.string(), sha256: z.string(), fromCache: z.boolean() })
  ),

  /** Starts a run off the answering thread; progress comes as 'training.progress' events. */
  'training.start': channel(
    z.object({ ...inProject, config: trainingConfigSchema }).strict(),
    z.object({ runId: runIdSchema })
  ),
  'training.cancel': channel(z.object({ runId: runIdSchema }).strict(), z.object({ cancelled: z.boolean() })),
  /** Runs going on in this app session (to reattach a screen after a reload). */
  'training.active': channel(
    empty,
    z.object({ runs: z.array(z.object({ projectKey: projectKeySchema, runId: runIdSchema, status: runStatusSchema })) })
  ),

  'runs.list': channel(z.object(inProject).strict(), z.object({ runs: z.array(runSummarySchema) })),
  'runs.get': channel(z.object(inRun).strict(), runDetailSchema),

  'results.gallery': channel(
    z
      .object({
        ...inRun,
        split: splitNameSchema,
        kind: galleryKindSchema,
        /** True class; null = all classes. */
        className: nameSchema.nullable(),
        n: z.number().int().min(1).max(1000)
      })
      .strict(),
    z.object({ items: z.array(galleryItemSchema) })
  ),
  'results.confusion': channel(z.object({ ...inRun, split: splitNameSchema }).strict(), confusionSchema),
  /** Images behind one confusion-matrix cell, highest confidence first. */
  'results.cell': channel(
    z
      .object({
        ...inRun,
        split: splitNameSchema,
        trueClass: nameSchema,
        predictedClass: nameSchema,
        n: z.number().int().min(1).max(10_000).optional()
      })
      .strict(),
    z.object({ items: z.array(galleryItemSchema) })
  ),
  /** Coverage and accuracy of the predictions whose confidence is >= each threshold. */
  'results.threshold': channel(
    z
      .object({ ...inRun, split: splitNameSchema, thresholds: z.array(z.number().min(0).max(1)).max(1000).optional() })
      .strict(),
    z.object({ points: z.array(thresholdPointSchema) })
  ),

  /** Class probabilities of one image (a project image by id, or dropped-in bytes as base64) under a run's model. */
  'predict.image': channel(
    z
      .object({
        ...inRun,
        image: z.discriminatedUnion('kind', [
          z.object({ kind: z.literal('imageId'), imageId: imageIdSchema }),
          z.object({ kind: z.literal('bytes'), name: nameSchema, base64: z.string().max(PREDICT_IMAGE_MAX_BASE64) })
        ])
      })
      .strict(),
    predictionSchema
  ),

  ...labelChannels,
  /** Exports a completed run (TF.js + web page and/or ONNX), checked by a second runtime; progress as 'export.progress'. */
  'export.run': channel(exportRequestSchema, exportResultSchema),
  /** Cancels the export of that run, if one is going; nothing is left at the destination. */
  'export.cancel': channel(z.object(inRun).strict(), z.object({ cancelled: z.boolean() })),
  /** Grad-CAM of one project image for one class under a run's model, laid over the photo (prediction worker). */
  'predict.gradCam': channel(
    z.object({ ...inRun, imageId: imageIdSchema, className: z.string().min(1) }).strict(),
    gradCamSchema
  ),
  /** Starts the project's label audit in a worker; progress comes as 'audit.progress' events. */
  'audit.start': channel(
    z.object({ ...inProject, config: auditConfigSchema }).strict(),
    z.object({ started: z.literal(true) })
  ),
  'audit.cancel': channel(z.object(inProject).strict(), z.object({ cancelled: z.boolean() })),
  /** The latest audit's findings, best first, without those kept as they are (until the file changes). */
  'audit.get': channel(
    z.object({ ...inProject, limit: z.number().int().min(1).max(5000).optional() }).strict(),
    auditViewSchema
  ),
  /** "Keep as is": the finding is not shown again until its image (or the pair's other image) changes. */
  'audit.dismiss': channel(
    z
      .object({ ...inProject, kind: findingKindSchema, imageId: imageIdSchema, otherImageId: imageIdSchema.optional() })
      .strict(),
    z.object({ dismissed: z.literal(true) })
  ),
  ...lrFindChannels
} as const

/** Events pushed from the backend to the renderer. */
export const events = {
  'training.progress': trainingProgressSchema,
  'models.downloadProgress': downloadProgressSchema,
  'export.progress': exportProgressSchema,
  'audit.progress': auditProgressSchema,
  'training.findLrProgress': lrFindProgressSchema
} as const

export type Channels = typeof channels
export type ChannelName = keyof Channels
export type EventName = keyof typeof events
export type RequestOf<C extends ChannelName> = z.infer<Channels[C]['request']>
export type ResponseOf<C extends ChannelName> = z.infer<Channels[C]['response']>
export type EventOf<E extends EventName> = z.infer<(typeof events)[E]>

// names.ts lists the same names without zod (for the preload); these fail to compile if the two lists drift.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
const channelNamesMatch: Same<ChannelName, (typeof CHANNEL_NAMES)[number]> = true
const eventNamesMatch: Same<EventName, (typeof EVENT_NAMES)[number]> = true
void channelNamesMatch
void eventNamesMatch

export const apiErrorInfoSchema = z.object({ code: z.enum(ERROR_CODES), message: z.string() })

export function envelopeSchema<T extends z.ZodTypeAny>(result: T) {
  return z.discriminatedUnion('ok', [
    z.object({ ok: z.literal(true), result }),
    z.object({ ok: z.literal(false), error: apiErrorInfoSchema })
  ])
}
