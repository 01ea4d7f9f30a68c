// The wire envelope every channel answers with, so error details survive IPC and the WebSocket alike.
// No zod here: the sandboxed preload bundles this file and can require nothing but electron.
export const ERROR_CODES = [
  /** The request did not match the channel's schema (or named no known channel). */
  'invalid-request',
  /** A project, run, image or model named by the request does not exist. */
  'not-found',
  /** The request is valid but cannot be done in this state (e.g. a run is already going). */
  'conflict',
  /** The transport or build cannot do this (e.g. a native folder picker in serve mode). */
  'unsupported',
  /** The core refused the input (unreadable folder, bad ratios, ...); the message says why. */
  'bad-input',
  /** The caller is not allowed (wrong sender / token). */
  'forbidden',
  /** Anything else: a bug or an I/O failure. */
  'internal'
] as const
export type ErrorCode = (typeof ERROR_CODES)[number]

export interface ApiErrorInfo {
  code: ErrorCode
  message: string
}

export type Envelope<T> = { ok: true; result: T } | { ok: false; error: ApiErrorInfo }

/** Thrown by handlers to answer with a specific code; thrown by the unwrapped client when an answer is an error. */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

export function ok<T>(result: T): Envelope<T> {
  return { ok: true, result }
}

export function fail(code: ErrorCode, message: string): Envelope<never> {
  return { ok: false, error: { code, message } }
}
