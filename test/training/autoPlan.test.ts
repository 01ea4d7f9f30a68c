// The auto recipe's reasons must say what the chosen values really do on this project.
import { describe, expect, it } from 'vitest'
import { planAuto } from '@core/training/auto'
import { DEFAULT_TRAIN_OPTIONS } from '@core/run/options'

const labels = (perClass: number, classes = 2): number[] =>
  Array.from({ length: perClass * classes }, (_, i) => i % classes)
const plan = (train: number[], backend = 'wasm') =>
  planAuto(
    { ...DEFAULT_TRAIN_OPTIONS, recipe: 'auto' },
    { trainLabels: train, classes: ['a', 'b'], validationCount: 10, pretrained: true, backend }
  )
const why = (choices: { setting: string; why: string }[], setting: string): string =>
  choices.find((c) => c.setting === setting)?.why ?? ''

describe('auto recipe reasons', () => {
  it('states the steps the patience waits, and when the cap shortens it', () => {
    const tiny = plan(labels(8)) // 16 images, batch 16: 1 step per epoch
    expect(tiny.options.earlyStopPatience).toBe(50)
    expect(why(tiny.choices, 'early stopping patience')).toMatch(
      /^waits 50 epochs \(50 optimizer steps at 1 per epoch\) for a lower validation loss; auto aims for about 400 steps but never waits more than 50 epochs/
    )
    const large = plan(labels(700)) // 1400 images, batch 32: 44 steps per epoch
    expect(large.options.earlyStopPatience).toBe(10)
    expect(why(large.choices, 'early stopping patience')).toMatch(
      /^waits 10 epochs \(440 optimizer steps at 44 per epoch\)/
    )
    expect(why(large.choices, 'early stopping patience')).not.toMatch(/never waits|at least/)
  })

  it('says the fine-tuning measurement it cites was made on another project', () => {
    expect(why(plan(labels(20)).choices, 'fine-tuning')).toMatch(/hymenoptera_data, not this project/)
  })
})
