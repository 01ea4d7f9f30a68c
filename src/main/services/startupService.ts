// app.startupCheck: the session's native-module check (run once; the renderer asks before showing any screen).
import type { PartialHandlers } from './context'

export const startupHandlers: PartialHandlers<'app.startupCheck'> = {
  'app.startupCheck': async (_req, ctx) => ctx.startupCheck()
}
