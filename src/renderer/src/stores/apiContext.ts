// The api the stores talk to. main.ts installs the real transport; component tests install a fake one.
import type { TuneLabApi } from '@shared/contract/api'

let current: TuneLabApi | null = null

export function setApi(api: TuneLabApi): void {
  current = api
}

export function useApi(): TuneLabApi {
  if (!current) throw new Error('TuneLab api is not connected yet (setApi was not called)')
  return current
}
