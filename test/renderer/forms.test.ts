// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import { nextTick } from 'vue'
import type { AugmentSpec, SplitStrategy } from '@shared/domain'
import { NO_AUGMENTATION } from '@shared/domain'
import SplitForm from '@renderer/components/SplitForm.vue'
import AugmentForm from '@renderer/components/AugmentForm.vue'
import TrainingForm from '@renderer/components/TrainingForm.vue'
import ConfusionMatrix from '@renderer/components/ConfusionMatrix.vue'
import ImageModal from '@renderer/components/ImageModal.vue'
import ImageGallery from '@renderer/components/ImageGallery.vue'
import { validateSplit } from '@renderer/lib/splitForm'
import { trainingOptions, type TrainingFormValue } from '@renderer/lib/trainingForm'

const base = {
  id: 'mobilenet_v2_0.35_96',
  label: 'MobileNetV2',
  size: 96,
  params: 410208,
  layers: 154,
  defaultFineTuneAt: 100,
  cached: true
}

describe('SplitForm', () => {
  it('emits the default ratios strategy, then the edited one', async () => {
    const w = mount(SplitForm, { props: { layout: 'flat' } })
    await nextTick()
    expect(w.emitted('change')?.[0]).toEqual([{ kind: 'ratios', ratios: [0.8, 0.1, 0.1], seed: 42 }])
    await w.get('[data-test=train]').setValue('70')
    await w.get('[data-test=validation]').setValue('20')
    await w.get('[data-test=seed]').setValue('7')
    const last = w.emitted('change')?.at(-1) as [SplitStrategy]
    expect(last[0]).toEqual({ kind: 'ratios', ratios: [0.7, 0.2, 0.1], seed: 7 })
  })

  it('rejects ratios that do not add up to 100 and says so', async () => {
    const w = mount(SplitForm, { props: { layout: 'flat' } })
    const changes = () => w.emitted('change')?.length ?? 0
    await nextTick()
    const before = changes()
    await w.get('[data-test=train]').setValue('90')
    expect(w.get('[data-test=split-error]').text()).toContain('add up to 100 % (now 110 %)')
    expect(w.emitted('invalid')?.at(-1)?.[0]).toContain('110')
    expect(changes()).toBe(before)
    await w.get('[data-test=train]').setValue('0')
    await w.get('[data-test=validation]').setValue('90')
    expect(w.get('[data-test=split-error]').text()).toBe('Train must be more than 0 %.')
  })

  it('marks the field that is wrong: the seed alone for a bad seed, the three percentages when only their sum is', async () => {
    const w = mount(SplitForm, { props: { layout: 'flat' } })
    const marked = () =>
      ['train', 'validation', 'test', 'seed'].filter(
        (f) => w.get(`[data-test=${f}]`).attributes('aria-invalid') === 'true'
      )
    await nextTick()
    expect(marked()).toEqual([])
    await w.get('[data-test=seed]').setValue('-1')
    expect(w.get('[data-test=split-error]').text()).toBe('Seed must be a whole number ≥ 0.')
    expect(marked()).toEqual(['seed'])
    await w.get('[data-test=seed]').setValue('3')
    await w.get('[data-test=train]').setValue('90')
    expect(marked()).toEqual(['train', 'validation', 'test'])
    await w.get('[data-test=train]').setValue('120')
    expect(marked()).toEqual(['train'])
  })

  it('preselects the folder split for a presplit project, with test carved out of validation when there is no test/', async () => {
    const withTest = mount(SplitForm, { props: { layout: 'presplit', hasTestFolder: true } })
    await nextTick()
    expect(withTest.emitted('change')?.[0]).toEqual([{ kind: 'folder', testFromVal: 0, seed: 42 }])
    const w = mount(SplitForm, { props: { layout: 'presplit' } })
    await nextTick()
    expect(w.emitted('change')?.[0]).toEqual([{ kind: 'folder', testFromVal: 0.2, seed: 42 }])
    await w.get('[data-test=test-from-val]').setValue('30')
    expect(w.emitted('change')?.at(-1)).toEqual([{ kind: 'folder', testFromVal: 0.3, seed: 42 }])
    await w.get('[data-test=test-from-val]').setValue('100')
    expect(w.get('[data-test=split-error]').text()).toContain('between 0 and 99')
  })

  it('keeps the folder option disabled for a flat project and refuses it in validation', () => {
    const w = mount(SplitForm, { props: { layout: 'flat' } })
    expect((w.get('[data-test=kind-folder]').element as HTMLInputElement).disabled).toBe(true)
    const r = validateSplit({ kind: 'folder', train: 80, validation: 10, test: 10, testFromVal: 0, seed: 1 }, 'flat')
    expect(r.ok).toBe(false)
  })
})

describe('AugmentForm', () => {
  function mountWith(spec: AugmentSpec | null) {
    const w = mount(AugmentForm, {
      props: { modelValue: spec, 'onUpdate:modelValue': (v: AugmentSpec | null) => void w.setProps({ modelValue: v }) }
    })
    return w
  }

  it("offers the recipe's own, says what each recipe does, and tells it apart from None", async () => {
    const w = mountWith(null)
    expect(w.get('[data-test=preset-recipe]').attributes('aria-pressed')).toBe('true')
    const own = w.get('[data-test=recipe-augment]').text()
    expect(own).toContain('TensorFlow tutorial: horizontal flip, rotation ±72°')
    expect(own).toContain('Auto: none')
    await w.get('[data-test=preset-none]').trigger('click')
    expect(w.props('modelValue')).toEqual(NO_AUGMENTATION)
    expect(w.find('[data-test=recipe-augment]').exists()).toBe(false)
    await w.get('[data-test=preset-recipe]').trigger('click')
    expect(w.props('modelValue')).toBeNull()
    await w.get('[data-test=hflip]').setValue(true) // an edit starts from nothing set
    expect(w.props('modelValue')).toEqual({ ...NO_AUGMENTATION, horizontalFlip: true })
  })

  it('applies the TF tutorial, PDL ch.3 and D2L presets with their exact values', async () => {
    const w = mountWith({ ...NO_AUGMENTATION })
    await w.get('[data-test=preset-tf-tutorial]').trigger('click')
    expect(w.props('modelValue')).toEqual({ ...NO_AUGMENTATION, horizontalFlip: true, rotation: 0.2 })
    expect(w.get('[data-test=preset-tf-tutorial]').attributes('aria-pressed')).toBe('true')
    await w.get('[data-test=preset-pdl-ch3]').trigger('click')
    expect(w.props('modelValue')).toEqual({
      ...NO_AUGMENTATION,
      rotation: 20 / 360,
      widthShift: 0.2,
      heightShift: 0.2,
      zoom: 0.2
    })
    expect(w.text()).toContain('±20°')
    await w.get('[data-test=preset-d2l]').trigger('click')
    expect(w.props('modelValue')).toEqual({ ...NO_AUGMENTATION, horizontalFlip: true })
  })

  it('edits one transform at a time and the preset highlight follows', async () => {
    const w = mountWith({ ...NO_AUGMENTATION, horizontalFlip: true, rotation: 0.2 })
    await w.get('[data-test=vflip]').setValue(true)
    await w.get('[data-test=brightness]').setValue('0.1')
    expect(w.props('modelValue')).toEqual({
      ...NO_AUGMENTATION,
      horizontalFlip: true,
      verticalFlip: true,
      rotation: 0.2,
      brightness: 0.1
    })
    expect(w.findAll('[aria-pressed=true]')).toHaveLength(0)
    expect(w.text()).toContain('±10 %')
  })
})

describe('TrainingForm', () => {
  it('starts with the auto recipe: what auto decides is left empty and not sent', async () => {
    const w = mount(TrainingForm, { props: { bases: [base], running: false } })
    expect((w.get('[data-test=recipe]').element as HTMLSelectElement).value).toBe('auto')
    expect((w.get('[data-test=lr]').element as HTMLInputElement).placeholder).toBe('auto')
    await w.get('form').trigger('submit')
    const v = w.emitted('start')?.[0]?.[0] as TrainingFormValue
    const sent = trainingOptions(v)
    expect(sent).toMatchObject({ recipe: 'auto', baseId: base.id, optimizer: 'adam', dropout: 0.2 })
    for (const k of ['epochs', 'lr', 'batchSize', 'fineTuneEpochs', 'earlyStopPatience'])
      expect(sent).not.toHaveProperty(k)
  })

  it('fills the fields from a picked recipe, which stay editable', async () => {
    const w = mount(TrainingForm, { props: { bases: [base], running: false } })
    await w.get('[data-test=recipe]').setValue('tf-tutorial')
    await w.get('form').trigger('submit')
    const v = w.emitted('start')?.[0]?.[0] as TrainingFormValue
    expect(v).toMatchObject({
      recipe: 'tf-tutorial',
      baseId: base.id,
      epochs: 10,
      batchSize: 32,
      lr: 1e-4,
      optimizer: 'adam',
      dropout: 0.2,
      fineTune: false
    })
    expect(trainingOptions(v)).not.toHaveProperty('fineTuneAt')
    await w.get('[data-test=recipe]').setValue('pdl-ch3')
    expect((w.get('[data-test=dense]').element as HTMLInputElement).value).toBe('64')
    await w.get('[data-test=dense]').setValue('128')
    await w.get('form').trigger('submit')
    expect(trainingOptions(w.emitted('start')?.[1]?.[0] as TrainingFormValue)).toMatchObject({
      recipe: 'pdl-ch3',
      dense: 128,
      dropout: 0.5,
      batchSize: 64,
      lr: 1e-3
    })
  })

  it('blocks start and names the field when a value is invalid', async () => {
    const w = mount(TrainingForm, { props: { bases: [base], running: false } })
    await w.get('[data-test=epochs]').setValue('-1')
    await w.get('[data-test=dropout]').setValue('1')
    expect(w.get('[data-test=error-epochs]').text()).toContain('Epochs must be a whole number from 0 to 1000')
    expect(w.get('[data-test=error-dropout]').text()).toContain('Dropout must be a number from 0 to 0.99')
    expect((w.get('[data-test=start]').element as HTMLButtonElement).disabled).toBe(true)
    await w.get('form').trigger('submit')
    expect(w.emitted('start')).toBeUndefined()
  })

  it('validates the fine-tune layer against the base and sends phase 2 settings', async () => {
    const w = mount(TrainingForm, { props: { bases: [base], running: false } })
    await w.get('[data-test=recipe]').setValue('tf-tutorial')
    await w.get('[data-test=fine-tune]').setValue(true)
    await w.get('[data-test=fine-tune-at]').setValue('154')
    expect(w.get('[data-test=error-fineTuneAt]').text()).toContain('from 1 to 153')
    await w.get('[data-test=fine-tune-at]').setValue('100')
    await w.get('[data-test=lr]').setValue('0.001')
    await w.get('[data-test=head-mult]').setValue('10')
    await w.get('form').trigger('submit')
    const v = w.emitted('start')?.[0]?.[0] as TrainingFormValue
    expect(trainingOptions(v)).toMatchObject({
      lr: 0.001,
      fineTuneAt: 100,
      fineTuneEpochs: 10,
      fineTuneLr: 0.0001,
      headLrMultiplier: 10
    })
  })

  it('shows cancel instead of start while running', async () => {
    const w = mount(TrainingForm, { props: { bases: [base], running: true } })
    expect(w.find('[data-test=start]').exists()).toBe(false)
    await w.get('[data-test=cancel]').trigger('click')
    expect(w.emitted('cancel')).toHaveLength(1)
  })
})

describe('ConfusionMatrix and ImageModal', () => {
  it('opens the images of a clicked cell; empty cells are not buttons', async () => {
    const w = mount(ConfusionMatrix, {
      props: {
        classes: ['a', 'b'],
        matrix: [
          [3, 0],
          [2, 5]
        ]
      }
    })
    expect(w.find('[data-test=cm-0-1]').exists()).toBe(false)
    await w.get('[data-test=cm-1-0]').trigger('click')
    expect(w.emitted('open')?.[0]).toEqual([1, 0])
  })

  it('closes on Escape', async () => {
    const w = mount(ImageModal, { props: { url: '/x.png', title: 'x.png' }, attachTo: document.body })
    document.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape' }))
    expect(w.emitted('close')).toHaveLength(1)
    w.unmount()
  })
})

describe('ImageGallery', () => {
  const item = {
    imageId: 'i1',
    url: 'tunelab://image/i1',
    path: 'cats/a.jpg',
    trueClass: 'cats',
    predictedClass: 'dogs',
    probability: 0.9
  }

  it('says it is loading instead of "empty" while the first images are on their way', () => {
    const w = mount(ImageGallery, { props: { items: [], emptyText: 'Nothing wrong here.', loading: true } })
    expect(w.find('[data-test=gallery-loading]').text()).toContain('Loading images')
    expect(w.text()).not.toContain('Nothing wrong here.')
  })

  it('keeps the old images, dimmed and busy, while new ones load; shows the empty text once loaded', async () => {
    const w = mount(ImageGallery, { props: { items: [item], loading: true } })
    expect(w.get('[data-test=gallery]').attributes('aria-busy')).toBe('true')
    expect(w.get('[data-test=gallery]').classes()).toContain('stale')
    await w.setProps({ items: [], loading: false, emptyText: 'Nothing wrong here.' })
    expect(w.text()).toContain('Nothing wrong here.')
    expect(w.find('[data-test=gallery-loading]').exists()).toBe(false)
  })
})
