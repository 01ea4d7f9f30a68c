// Label overrides: what a person decided about an image from the galleries, without touching their files.

export type LabelAction = { kind: 'relabel'; to: string } | { kind: 'exclude' }

export interface LabelOverride {
  /** Where the image was when the override was made (updated when the file is found renamed). */
  relPath: string
  contentHash: string
  /** The class its folder gave it when the override was made. */
  originalClass: string
  /** The class it should have; null when excluded. */
  newClass: string | null
  excluded: boolean
  note: string | null
  createdAt: string
  /** The action that set it (label_actions.id). */
  actionId: number
}

/** An override matched to a present image of the current scan. */
export interface ResolvedOverride extends LabelOverride {
  imageId: number
  /** The image's class from its folder today (differs from originalClass after apply-labels moved it). */
  folderClass: string
  /** True when the folder already says what the override says (apply-labels has moved the file). */
  applied: boolean
}

export interface OverrideResolution {
  /** By image id. */
  byImage: Map<number, ResolvedOverride>
  /** Overrides whose file is no longer among the present images (moved out, deleted, or changed content). */
  unmatched: LabelOverride[]
}

export interface LabelCounts {
  relabelled: number
  excluded: number
}
