// What the start-up check found about the native modules the app needs or can use (app.startupCheck).
import { z } from 'zod'

export const nativeModuleSchema = z.enum([
  'better-sqlite3',
  'onednn',
  '@tensorflow/tfjs-node-gpu',
  '@tensorflow/tfjs-node'
])
export type NativeModuleName = z.infer<typeof nativeModuleSchema>

export const moduleCheckSchema = z.object({
  module: nativeModuleSchema,
  /** What the app uses it for, for people: 'SQLite (every project database)'. */
  role: z.string(),
  /** ok: loaded; absent: not installed / not built (fine for optional ones); failed: present but does not load. */
  status: z.enum(['ok', 'absent', 'failed']),
  /** Without it no project can open. */
  required: z.boolean(),
  /** ok: what loaded (version, file); otherwise why not, as the loader said it. */
  detail: z.string(),
  /** The one command that fixes it, or what to do when no command can (packaged app). Null when ok. */
  fix: z.string().nullable()
})
export type ModuleCheck = z.infer<typeof moduleCheckSchema>

export const startupReportSchema = z.object({
  /** False when a required module failed: the window shows the report instead of the app. */
  ok: z.boolean(),
  runtime: z.object({
    kind: z.enum(['electron', 'electron-packaged', 'node']),
    /** process.versions.modules of the process that ran the check. */
    abi: z.string(),
    platform: z.string(),
    arch: z.string()
  }),
  checks: z.array(moduleCheckSchema),
  /** The TF.js backend training will start with (best first), and why the better ones will not load. */
  backend: z.object({ expected: z.string(), skipped: z.array(z.object({ name: z.string(), reason: z.string() })) })
})
export type StartupReport = z.infer<typeof startupReportSchema>
