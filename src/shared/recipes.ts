// Recipes: named presets of the run settings. The form's recipe picker and the CLI's --recipe fill the settings from
// here; anything given explicitly overrides them. `auto` also makes data-dependent choices at run time
// (src/main/core/training/auto.ts): its values here are where those choices start.
import { AUGMENT_PRESETS } from './augmentPresets'
import { NO_AUGMENTATION, type AugmentSpec } from './domain'
import type { OptimizerName, RecipeName, RunConfig } from './runConfig'

/** The settings a recipe fixes; what it leaves out, the run's defaults or auto's choices give. */
export interface RecipeSettings {
  epochs: number
  batchSize: number
  lr: number
  optimizer: OptimizerName
  momentum?: number
  dense?: number
  dropout: number
  /** L2 penalty on the head's kernels (omitted = none). */
  l2?: number
  augment: AugmentSpec
  /** Omitted: the base's own default (e.g. 100 for MobileNetV2). */
  fineTuneAt?: number
  fineTuneEpochs?: number
  /** Phase 2 base rate = lr / this (the TF tutorial: lr/10). */
  fineTuneLrDivisor: number
  headLrMultiplier?: number
  earlyStopPatience?: number
}

export interface Recipe {
  name: RecipeName
  title: string
  /** One line for the picker and `--help`. */
  summary: string
  settings: RecipeSettings
  /** Settings auto decides from the data at run time (empty for the fixed recipes). */
  decidedAtRunTime: readonly (keyof RunConfig)[]
}

export const RECIPES: Record<RecipeName, Recipe> = {
  auto: {
    name: 'auto',
    title: 'Auto',
    summary:
      "chooses from your data: the head trained to convergence on cached features (Adam at the range test's rate, L2 0.01, sized in optimizer steps, early stopping with the best weights kept), squash or pad resizing by validation loss on small projects, class weights when imbalanced, fine-tuning on native backends only while validation improves",
    settings: {
      epochs: 50,
      batchSize: 32,
      lr: 1e-3,
      optimizer: 'adam',
      dropout: 0.2,
      l2: 0.01,
      augment: NO_AUGMENTATION,
      fineTuneLrDivisor: 100,
      earlyStopPatience: 5
    },
    decidedAtRunTime: [
      'epochs',
      'batchSize',
      'lr',
      'earlyStopPatience',
      'fineTuneAt',
      'fineTuneEpochs',
      'fineTuneLr',
      'classWeights',
      'resizeMode'
    ]
  },
  'tf-tutorial': {
    name: 'tf-tutorial',
    title: 'TensorFlow tutorial',
    summary:
      'the TF transfer-learning tutorial: Adam 1e-4, 10 epochs, batch 32, dropout 0.2, random flip and rotation 0.2; fine-tuning (from layer 100 of MobileNetV2) at lr/10 when asked',
    settings: {
      epochs: 10,
      batchSize: 32,
      lr: 1e-4,
      optimizer: 'adam',
      dropout: 0.2,
      augment: AUGMENT_PRESETS['tf-tutorial'].spec,
      fineTuneLrDivisor: 10
    },
    decidedAtRunTime: []
  },
  'pdl-ch3': {
    name: 'pdl-ch3',
    title: 'Practical Deep Learning ch. 3',
    summary:
      'Dense 64 + Dropout 0.5, Adam 1e-3, batch 64, 10 epochs, rotation 20°, shifts 0.2, zoom 0.2 (the book uses MobileNet v1 224)',
    settings: {
      epochs: 10,
      batchSize: 64,
      lr: 1e-3,
      optimizer: 'adam',
      dense: 64,
      dropout: 0.5,
      augment: AUGMENT_PRESETS['pdl-ch3'].spec,
      fineTuneLrDivisor: 10
    },
    decidedAtRunTime: []
  },
  d2l: {
    name: 'd2l',
    title: 'Dive into Deep Learning',
    summary: 'fine-tunes the whole base with SGD, the new head at 10x the base rate, 5 epochs, batch 128 (d2l 14.2)',
    // d2l's 5e-5 is on a loss summed over the batch of 128; on our mean loss that is 128 * 5e-5.
    settings: {
      epochs: 0,
      batchSize: 128,
      lr: 6.4e-3,
      optimizer: 'sgd',
      dropout: 0,
      augment: AUGMENT_PRESETS.d2l.spec,
      fineTuneAt: 1,
      fineTuneEpochs: 5,
      fineTuneLrDivisor: 1,
      headLrMultiplier: 10
    },
    decidedAtRunTime: []
  }
}

export function recipeOf(name: RecipeName | undefined): Recipe {
  return RECIPES[name ?? 'auto']
}
