// Limits the UI states before sending and both transports enforce. zod-free (the preload and renderer import it).

/** Largest image "Predict an image" accepts, in bytes (both transports). */
export const PREDICT_IMAGE_MAX_BYTES = 30 * 1024 * 1024

/** The same limit as base64 characters (what the predict.image channel carries). */
export const PREDICT_IMAGE_MAX_BASE64 = Math.ceil(PREDICT_IMAGE_MAX_BYTES / 3) * 4

/** Largest WebSocket frame serve mode reads; a bigger one closes that connection with code 1009. */
export const WS_MAX_PAYLOAD_BYTES = 64 * 1024 * 1024

export function formatMegabytes(bytes: number): string {
  return `${Math.round(bytes / (1024 * 1024))} MB`
}
