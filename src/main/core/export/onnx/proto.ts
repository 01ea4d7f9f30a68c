// The subset of onnx.proto (github.com/onnx/onnx, onnx/onnx.proto, IR version 8) that a classifier needs,
// as a protobufjs reflection JSON: same message names, field names and field numbers as the official schema,
// so the bytes are a valid ModelProto that any ONNX reader accepts. Fields we never write are left out.
import protobuf from 'protobufjs/light.js'

const ONNX_SCHEMA = {
  nested: {
    onnx: {
      nested: {
        AttributeProto: {
          fields: {
            name: { type: 'string', id: 1 },
            f: { type: 'float', id: 2 },
            i: { type: 'int64', id: 3 },
            s: { type: 'bytes', id: 4 },
            t: { type: 'TensorProto', id: 5 },
            floats: { rule: 'repeated', type: 'float', id: 7 },
            ints: { rule: 'repeated', type: 'int64', id: 8 },
            docString: { type: 'string', id: 13 },
            type: { type: 'AttributeType', id: 20 }
          },
          nested: {
            AttributeType: {
              values: {
                UNDEFINED: 0,
                FLOAT: 1,
                INT: 2,
                STRING: 3,
                TENSOR: 4,
                GRAPH: 5,
                FLOATS: 6,
                INTS: 7,
                STRINGS: 8,
                TENSORS: 9,
                GRAPHS: 10
              }
            }
          }
        },
        ValueInfoProto: {
          fields: {
            name: { type: 'string', id: 1 },
            type: { type: 'TypeProto', id: 2 },
            docString: { type: 'string', id: 3 }
          }
        },
        NodeProto: {
          fields: {
            input: { rule: 'repeated', type: 'string', id: 1 },
            output: { rule: 'repeated', type: 'string', id: 2 },
            name: { type: 'string', id: 3 },
            opType: { type: 'string', id: 4 },
            domain: { type: 'string', id: 7 },
            attribute: { rule: 'repeated', type: 'AttributeProto', id: 5 },
            docString: { type: 'string', id: 6 }
          }
        },
        ModelProto: {
          fields: {
            irVersion: { type: 'int64', id: 1 },
            opsetImport: { rule: 'repeated', type: 'OperatorSetIdProto', id: 8 },
            producerName: { type: 'string', id: 2 },
            producerVersion: { type: 'string', id: 3 },
            domain: { type: 'string', id: 4 },
            modelVersion: { type: 'int64', id: 5 },
            docString: { type: 'string', id: 6 },
            graph: { type: 'GraphProto', id: 7 },
            metadataProps: { rule: 'repeated', type: 'StringStringEntryProto', id: 14 }
          }
        },
        StringStringEntryProto: { fields: { key: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } } },
        GraphProto: {
          fields: {
            node: { rule: 'repeated', type: 'NodeProto', id: 1 },
            name: { type: 'string', id: 2 },
            initializer: { rule: 'repeated', type: 'TensorProto', id: 5 },
            docString: { type: 'string', id: 10 },
            input: { rule: 'repeated', type: 'ValueInfoProto', id: 11 },
            output: { rule: 'repeated', type: 'ValueInfoProto', id: 12 },
            valueInfo: { rule: 'repeated', type: 'ValueInfoProto', id: 13 }
          }
        },
        TensorProto: {
          fields: {
            dims: { rule: 'repeated', type: 'int64', id: 1 },
            dataType: { type: 'int32', id: 2 },
            floatData: { rule: 'repeated', type: 'float', id: 4, options: { packed: true } },
            int32Data: { rule: 'repeated', type: 'int32', id: 5, options: { packed: true } },
            int64Data: { rule: 'repeated', type: 'int64', id: 7, options: { packed: true } },
            name: { type: 'string', id: 8 },
            rawData: { type: 'bytes', id: 9 },
            docString: { type: 'string', id: 12 }
          },
          nested: {
            DataType: {
              values: {
                UNDEFINED: 0,
                FLOAT: 1,
                UINT8: 2,
                INT8: 3,
                UINT16: 4,
                INT16: 5,
                INT32: 6,
                INT64: 7,
                STRING: 8,
                BOOL: 9,
                FLOAT16: 10,
                DOUBLE: 11
              }
            }
          }
        },
        TensorShapeProto: {
          fields: { dim: { rule: 'repeated', type: 'Dimension', id: 1 } },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ['dimValue', 'dimParam'] } },
              fields: {
                dimValue: { type: 'int64', id: 1 },
                dimParam: { type: 'string', id: 2 },
                denotation: { type: 'string', id: 3 }
              }
            }
          }
        },
        TypeProto: {
          oneofs: { value: { oneof: ['tensorType'] } },
          fields: { tensorType: { type: 'Tensor', id: 1 }, denotation: { type: 'string', id: 6 } },
          nested: {
            Tensor: { fields: { elemType: { type: 'int32', id: 1 }, shape: { type: 'TensorShapeProto', id: 2 } } }
          }
        },
        OperatorSetIdProto: { fields: { domain: { type: 'string', id: 1 }, version: { type: 'int64', id: 2 } } }
      }
    }
  }
} as const

/** onnx.TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, UINT8: 2, INT32: 6, INT64: 7 } as const
/** onnx.AttributeProto.AttributeType values used here. */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const

/** ONNX IR version written (IR 8 goes with opsets 13..18). */
export const IR_VERSION = 8
/** Default-domain opset the graphs use (Clip with min/max inputs, Pad with a pads input, Softmax over the last axis). */
export const OPSET = 13

let modelType: protobuf.Type | null = null

function modelProto(): protobuf.Type {
  modelType ??= protobuf.Root.fromJSON(ONNX_SCHEMA as unknown as protobuf.INamespace).lookupType('onnx.ModelProto')
  return modelType
}

export interface OnnxAttribute {
  name: string
  type: number
  f?: number
  i?: number
  s?: Uint8Array
  floats?: number[]
  ints?: number[]
}

export interface OnnxNode {
  name: string
  opType: string
  input: string[]
  output: string[]
  attribute: OnnxAttribute[]
}

export interface OnnxTensor {
  name: string
  dims: number[]
  dataType: number
  rawData: Uint8Array
}

export interface OnnxValueInfo {
  name: string
  type: { tensorType: { elemType: number; shape: { dim: Array<{ dimValue: number } | { dimParam: string }> } } }
}

export interface OnnxModel {
  irVersion: number
  opsetImport: Array<{ domain: string; version: number }>
  producerName: string
  producerVersion: string
  docString?: string
  graph: { name: string; node: OnnxNode[]; initializer: OnnxTensor[]; input: OnnxValueInfo[]; output: OnnxValueInfo[] }
  metadataProps: Array<{ key: string; value: string }>
}

/** Serialises a ModelProto (checked against the schema first). */
export function encodeModel(model: OnnxModel): Uint8Array {
  const type = modelProto()
  const err = type.verify(model)
  if (err) throw new Error(`onnx: invalid ModelProto: ${err}`)
  return type.encode(type.fromObject(model)).finish()
}

/** Parses ModelProto bytes back into plain objects (int64 as numbers, bytes as Uint8Array), for tests and checks. */
export function decodeModel(bytes: Uint8Array): OnnxModel {
  const type = modelProto()
  return type.toObject(type.decode(bytes), {
    longs: Number,
    bytes: Uint8Array,
    defaults: false,
    arrays: true
  }) as OnnxModel
}
