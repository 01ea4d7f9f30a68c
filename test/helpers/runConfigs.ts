// Stored run configs as a real run would store them: the request resolved by the core's own code.
import type { RunChoice, RunConfig, StoredRunConfig } from '@shared/runConfig'
import { trainOptionsFromConfig } from '@core/run/fromConfig'
import { storedRunConfig } from '@core/run/storedConfig'

export function storedConfigFor(
  received: RunConfig,
  choices: RunChoice[] = [],
  classes = ['cats', 'dogs']
): StoredRunConfig {
  const opts = trainOptionsFromConfig(received)
  return storedRunConfig(
    opts,
    { baseId: received.baseId, classes, splitId: 1, strategy: { kind: 'ratios', ratios: [0.8, 0.1, 0.1], seed: 42 } },
    choices
  )
}
