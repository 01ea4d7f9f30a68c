// The Grad-CAM toggle in the image modal, in Debian's Chromium against the real serve mode and core: train a tiny
// run on a few real cat and dog photos (pretrained base: on a random-weights base the heatmap is empty and the
// overlay would show nothing), open an image from Results, ask where the model looks for its class, and the photo
// is replaced by the heatmap overlay (a data: URL, visible, non-zero size, coloured). The screenshot goes to
// docs/screenshots/gradcam.png with TUNELAB_SCREENSHOTS=docs/screenshots.
import { describe, expect, it } from 'vitest'
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { CHROMIUM, HAS_CHROMIUM, appForBlock, pickBase, PRETRAINED, SHOTS, waitForRunStatus } from '@test/helpers/e2e'
import { SHARED_DATA } from '@test/helpers/sharedData'

const CATS_DOGS = join(SHARED_DATA, 'cats_and_dogs_filtered', 'validation')

describe.skipIf(!HAS_CHROMIUM || !existsSync(CATS_DOGS) || !PRETRAINED)(
  `Grad-CAM overlay in the image modal in Chromium (needs ${CHROMIUM} and the shared data)`,
  () => {
    const e2e = appForBlock({
      prefix: 'tunelab-e2e-gradcam-',
      name: 'pets',
      viewport: { width: 1280, height: 900 },
      prepare: async (project) => {
        for (const c of ['cats', 'dogs']) {
          mkdirSync(join(project, c), { recursive: true })
          for (const f of readdirSync(join(CATS_DOGS, c)).sort().slice(0, 10))
            copyFileSync(join(CATS_DOGS, c, f), join(project, c, f))
        }
      }
    })

    /** The modal image once decoded: its shape, shown size and share of strongly coloured pixels. */
    function look(): Promise<{ natural: number; aspect: number; width: number; height: number; coloured: number }> {
      return e2e.page.evaluate(async () => {
        const el = document.querySelector<HTMLImageElement>('[data-test=modal] img') as HTMLImageElement
        await el.decode()
        const canvas = document.createElement('canvas')
        canvas.width = el.naturalWidth
        canvas.height = el.naturalHeight
        const g = canvas.getContext('2d') as CanvasRenderingContext2D
        g.drawImage(el, 0, 0)
        const px = g.getImageData(0, 0, canvas.width, canvas.height).data
        let coloured = 0
        for (let i = 0; i < px.length; i += 4) {
          const [r, gr, b] = [px[i] as number, px[i + 1] as number, px[i + 2] as number]
          if (Math.max(r, gr, b) - Math.min(r, gr, b) > 100) coloured++
        }
        const box = el.getBoundingClientRect()
        const natural = el.naturalWidth
        return {
          natural,
          aspect: natural / el.naturalHeight,
          width: box.width,
          height: box.height,
          coloured: coloured / (px.length / 4)
        }
      })
    }

    it('trains a tiny run', async () => {
      await e2e.page.click('[data-test=nav-training]')
      await pickBase(e2e.page)
      await e2e.page.fill('[data-test=epochs]', '3')
      await e2e.page.fill('[data-test=batch]', '8')
      await e2e.page.click('[data-test=start]')
      await waitForRunStatus(e2e.page, 'completed')
    }, 360_000)

    it('opens an image from Results and overlays the Grad-CAM heatmap on it', async () => {
      await e2e.page.click('[data-test=view-results]')
      await e2e.page.waitForSelector('[data-test=confusion]', { timeout: 60_000 })
      await e2e.page.waitForSelector('[data-test=gallery-item]', { timeout: 60_000 })
      await e2e.page.locator('[data-test=gallery-item]').first().click()
      const img = e2e.page.locator('[data-test=modal] img')
      await img.waitFor({ state: 'visible' })
      const photo = await img.getAttribute('src')
      const plain = await look()
      expect(photo).not.toMatch(/^data:/)
      const trueClass = (await e2e.page.locator('[data-test=modal] .details li').nth(1).textContent())?.split(': ')[1]
      expect(['cats', 'dogs']).toContain(trueClass)

      await e2e.page.click(`[data-test=gradcam-${trueClass}]`)
      await e2e.page.waitForFunction(
        () =>
          document.querySelector('[data-test=modal] img')?.getAttribute('src')?.startsWith('data:image/png') === true,
        undefined,
        { timeout: 120_000 }
      )
      expect(await e2e.page.getAttribute(`[data-test=gradcam-${trueClass}]`, 'aria-pressed')).toBe('true')
      expect(await e2e.page.locator('[data-test=gradcam] [role=alert]').count()).toBe(0)
      // Loaded, shown at a real size, and the heat is there: some pixels are strongly coloured (the colour map's
      // red/yellow/cyan at up to 60 % opacity), clearly more of them than in the photo itself.
      const seen = await look()
      if (SHOTS) {
        mkdirSync(resolve(SHOTS), { recursive: true })
        await e2e.page.screenshot({ path: resolve(SHOTS, 'gradcam.png'), fullPage: false })
      }
      expect(seen.natural).toBeGreaterThan(0)
      // Laid over the photo at the photo's shape, not a squashed square copy of it.
      expect(seen.aspect).toBeCloseTo(plain.aspect, 1)
      expect(seen.width).toBeGreaterThan(100)
      expect(seen.height).toBeGreaterThan(100)
      expect(seen.coloured - plain.coloured, 'more strongly coloured pixels with the overlay').toBeGreaterThan(0.01)

      // Toggling the same class again shows the plain photo.
      await e2e.page.click(`[data-test=gradcam-${trueClass}]`)
      await e2e.page.waitForFunction(
        (src) => document.querySelector('[data-test=modal] img')?.getAttribute('src') === src,
        photo
      )
      expect(e2e.app.pageErrors).toEqual([])
    }, 180_000)
  }
)
