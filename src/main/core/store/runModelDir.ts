// Where a run's trained model lives inside a project's state folder (see projectState.ts).
import { join } from 'node:path'

/** The folder of a completed run's model (TF.js layers format + tunelab.json): <state>/models/run-<id>. */
export function runModelDir(modelsDir: string, runId: number): string {
  return join(modelsDir, `run-${runId}`)
}
