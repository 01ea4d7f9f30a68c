// Single-key shortcuts (the image viewer's arrows, 1-9, x, u) must not fire while the user types in a field.

/** Whether a key event's target is a field that takes typing. */
export function typingIn(target: EventTarget | null): boolean {
  return (
    target instanceof HTMLInputElement || target instanceof HTMLSelectElement || target instanceof HTMLTextAreaElement
  )
}
