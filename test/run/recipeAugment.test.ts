// Each recipe's augmentation applies when a request leaves it out; an explicit one (even none) wins.
import { describe, expect, it } from 'vitest'
import { parseArgs } from 'node:util'
import { trainOptionsFromConfig } from '@core/run/fromConfig'
import { runConfigFromCli, TRAIN_OPTIONS } from '@cli/commands/train'
import { NO_AUGMENTATION } from '@shared/domain'

const BASE = 'mobilenet_v2_0.35_224'
const cli = (args: string[]) =>
  trainOptionsFromConfig(runConfigFromCli(parseArgs({ args, options: TRAIN_OPTIONS, allowPositionals: true }).values))

describe('recipe augmentation', () => {
  it("tf-tutorial flips and rotates by 0.2 of a turn, as the TF tutorial's RandomFlip + RandomRotation(0.2)", () => {
    const o = trainOptionsFromConfig({ recipe: 'tf-tutorial', baseId: BASE, weights: 'random' })
    expect(o.augment).toEqual({ ...NO_AUGMENTATION, horizontalFlip: true, rotation: 0.2 })
    expect(cli(['--recipe', 'tf-tutorial', '--base', BASE, '--random-weights']).augment).toEqual(o.augment)
  })

  it('an explicit augmentation wins over the recipe, including none', () => {
    const none = { recipe: 'tf-tutorial', baseId: BASE, weights: 'random', augment: NO_AUGMENTATION } as const
    expect(trainOptionsFromConfig(none).augment).toEqual(NO_AUGMENTATION)
    expect(cli(['--recipe', 'tf-tutorial', '--base', BASE, '--random-weights', '--augment', 'none']).augment).toEqual(
      NO_AUGMENTATION
    )
    expect(cli(['--recipe', 'tf-tutorial', '--base', BASE, '--random-weights', '--augment', 'vflip']).augment).toEqual({
      ...NO_AUGMENTATION,
      verticalFlip: true
    })
  })

  it('auto trains on cached features (no augmentation) unless asked', () => {
    expect(trainOptionsFromConfig({ recipe: 'auto', baseId: BASE, weights: 'random' }).augment).toEqual(NO_AUGMENTATION)
  })
})
