// @vitest-environment happy-dom
// The relabel / exclude actions: buttons and keyboard shortcuts send the right request, the store marks the
// image as fixed, keys typed into a field are left alone.
import { beforeEach, describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import { nextTick } from 'vue'
import { createPinia, setActivePinia } from 'pinia'
import { setApi } from '@renderer/stores/apiContext'
import { useProjectStore } from '@renderer/stores/project'
import { overrideMark, useLabelsStore } from '@renderer/stores/labels'
import LabelActions from '@renderer/components/LabelActions.vue'
import { createFakeApi, type FakeApi } from '@test/helpers/fakeApi'

let fake: FakeApi

beforeEach(async () => {
  fake = createFakeApi()
  setApi(fake.api)
  setActivePinia(createPinia())
  expect(await useProjectStore().open('/data/pets')).toBe(true)
  await useLabelsStore().load()
})

const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await nextTick()
}
const press = (key: string, target: EventTarget = document): void => {
  target.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true }))
}
const labelCalls = (): unknown[] => fake.calls.filter((c) => c.name === 'labels.set').map((c) => c.request)

describe('LabelActions', () => {
  it('number keys relabel, x excludes, and the image is marked as fixed', async () => {
    const w = mount(LabelActions, {
      props: { imageIds: [3], classes: ['cats', 'dogs'], currentClass: 'cats', keyboard: true },
      attachTo: document.body
    })
    press('2')
    await flush()
    expect(labelCalls()).toEqual([
      { projectKey: useProjectStore().key, imageIds: [3], action: { kind: 'relabel', to: 'dogs' } }
    ])
    expect(w.emitted('done')?.[0]).toEqual(['relabel'])
    const labels = useLabelsStore()
    expect(labels.marks['3']).toBe('→ dogs')
    expect(w.get('[data-test=relabel-dogs]').classes()).toContain('current')
    press('x')
    await flush()
    expect(labelCalls().at(-1)).toMatchObject({ imageIds: [3], action: { kind: 'exclude' } })
    expect(overrideMark(labels.byImage.get(3))).toBe('excluded')
    press('9') // no ninth class: nothing happens
    await flush()
    expect(labelCalls()).toHaveLength(2)
    w.unmount()
  })

  it('ignores keys typed into a field, and has no shortcuts without `keyboard`', async () => {
    const input = document.createElement('input')
    document.body.appendChild(input)
    const w = mount(LabelActions, {
      props: { imageIds: [4], classes: ['cats', 'dogs'], keyboard: true },
      attachTo: document.body
    })
    press('1', input)
    await flush()
    expect(labelCalls()).toEqual([])
    w.unmount()
    const quiet = mount(LabelActions, { props: { imageIds: [4], classes: ['cats', 'dogs'] }, attachTo: document.body })
    press('1')
    await flush()
    expect(labelCalls()).toEqual([])
    await quiet.get('[data-test=exclude]').trigger('click')
    await flush()
    expect(labelCalls()).toEqual([{ projectKey: useProjectStore().key, imageIds: [4], action: { kind: 'exclude' } }])
    quiet.unmount()
    input.remove()
  })

  it('shows a select instead of buttons in compact mode with many classes', () => {
    const w = mount(LabelActions, { props: { imageIds: [5], classes: ['a', 'b', 'c', 'd'], compact: true } })
    expect(w.find('[data-test=relabel-select]').exists()).toBe(true)
    expect(w.find('[data-test=relabel-a]').exists()).toBe(false)
  })
})
