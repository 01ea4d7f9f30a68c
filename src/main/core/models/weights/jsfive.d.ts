// Minimal typings for the parts of jsfive (pure-JS HDF5 reader) we use.
declare module 'jsfive' {
  export class Dataset {
    readonly shape: number[]
    readonly dtype: string | object
    readonly value: ArrayLike<number> | unknown
    readonly attrs: Record<string, unknown>
  }
  export class Group {
    readonly keys: string[]
    readonly attrs: Record<string, unknown>
    get(path: string): Group | Dataset | null
  }
  export class File extends Group {
    constructor(buffer: ArrayBuffer, filename: string)
  }
}
