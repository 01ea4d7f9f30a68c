// Seconds spent per stage of a run, stored with the run (runs.timings) and printed by the CLI.
export class StageTimer {
  readonly seconds: Record<string, number> = {}
  private readonly t0 = performance.now()
  private mark = this.t0

  /** Adds the time since the previous lap (or the start) to `name`. */
  lap(name: string): void {
    const now = performance.now()
    this.seconds[name] = (this.seconds[name] ?? 0) + (now - this.mark) / 1000
    this.mark = now
  }

  /** Sets `name` to the seconds since `since` and restarts the lap clock. */
  record(name: string, since: number): void {
    this.mark = performance.now()
    this.seconds[name] = (this.mark - since) / 1000
  }

  restart(): void {
    this.mark = performance.now()
  }

  total(): Record<string, number> {
    this.seconds.total = (performance.now() - this.t0) / 1000
    return this.seconds
  }
}
