export type ProjectErrorCode =
  | 'NOT_FOUND'
  | 'NOT_A_DIRECTORY'
  | 'NO_CLASSES'
  | 'ONE_CLASS'
  | 'EMPTY_CLASS'
  | 'MIXED_LAYOUT'
  | 'BAD_SPLIT'
  | 'BAD_RATIOS'

/** A problem with a project folder or its split settings; `path` names the file or folder at fault. */
export class ProjectError extends Error {
  readonly code: ProjectErrorCode
  readonly path?: string

  constructor(code: ProjectErrorCode, message: string, path?: string) {
    super(message)
    this.name = 'ProjectError'
    this.code = code
    if (path !== undefined) this.path = path
  }
}

export function noClassesError(where: string, absRoot: string): ProjectError {
  return new ProjectError(
    'NO_CLASSES',
    `no class folders found in ${where}: put each class's images in its own sub-folder`,
    absRoot
  )
}

export function oneClassError(name: string, absRoot: string): ProjectError {
  return new ProjectError(
    'ONE_CLASS',
    `only one class ("${name}") in ${absRoot}: a classifier needs at least two class folders`,
    absRoot
  )
}
