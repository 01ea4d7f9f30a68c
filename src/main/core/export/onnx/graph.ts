// Builds an ONNX graph node by node: unique tensor names, float32/int64 initializers, typed attributes.
import {
  AttributeType,
  DataType,
  type OnnxAttribute,
  type OnnxNode,
  type OnnxTensor,
  type OnnxValueInfo
} from './proto'

export type AttrValue = number | number[] | string | { float: number } | { floats: number[] }

function attribute(name: string, v: AttrValue): OnnxAttribute {
  if (typeof v === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(v) }
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`onnx: attribute ${name}=${v} is not an integer (use {float})`)
    return { name, type: AttributeType.INT, i: v }
  }
  if (Array.isArray(v)) return { name, type: AttributeType.INTS, ints: v }
  if ('float' in v) return { name, type: AttributeType.FLOAT, f: v.float }
  return { name, type: AttributeType.FLOATS, floats: v.floats }
}

function bytesOf(data: Float32Array | BigInt64Array): Uint8Array {
  // ONNX raw_data is little-endian; so is every platform Node runs on that we ship for.
  return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength))
}

export function tensorInfo(name: string, elemType: number, dims: Array<number | string>): OnnxValueInfo {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) }
      }
    }
  }
}

export class GraphBuilder {
  readonly nodes: OnnxNode[] = []
  readonly initializers: OnnxTensor[] = []
  private readonly used = new Set<string>()

  /** A tensor/node name not used yet, derived from `base` (Keras layer names are already unique). */
  name(base: string): string {
    const clean = base.replace(/[^A-Za-z0-9_./:-]/g, '_') || 't'
    let n = clean
    for (let k = 1; this.used.has(n); k++) n = `${clean}_${k}`
    this.used.add(n)
    return n
  }

  /** Adds a float32 initializer and returns its name. */
  floats(base: string, dims: number[], data: Float32Array | number[]): string {
    const arr = data instanceof Float32Array ? data : Float32Array.from(data)
    const n = dims.reduce((a, b) => a * b, 1)
    if (arr.length !== n)
      throw new Error(`onnx: initializer ${base} has ${arr.length} values for shape [${dims.join(',')}]`)
    const name = this.name(base)
    this.initializers.push({ name, dims, dataType: DataType.FLOAT, rawData: bytesOf(arr) })
    return name
  }

  /** Adds an int64 initializer (shapes, pads, axes) and returns its name. */
  int64s(base: string, values: number[]): string {
    const name = this.name(base)
    this.initializers.push({
      name,
      dims: [values.length],
      dataType: DataType.INT64,
      rawData: bytesOf(BigInt64Array.from(values.map((v) => BigInt(v))))
    })
    return name
  }

  /** Adds a node with one output named after `base`; returns the output name. */
  node(opType: string, inputs: string[], base: string, attrs: Record<string, AttrValue> = {}): string {
    const out = this.name(base)
    this.nodes.push({
      name: out,
      opType,
      input: inputs,
      output: [out],
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v))
    })
    return out
  }
}
