// oneDNN convolution kernels for TF.js tensors (NHWC, float32), called synchronously from kernel functions.
// Every call takes Float32Array views (on the wasm heap or anywhere) and writes its result in place.
// Primitives are cached per thread by shape; weights are given in TF layouts (HWIO, depthwise HWCM) and
// reordered by oneDNN into whatever its fastest implementation wants.
#include <napi.h>
#include <omp.h>
#if defined(__SSE2__)
#include <xmmintrin.h>
#endif

#include <oneapi/dnnl/dnnl.hpp>
#include <oneapi/dnnl/dnnl_version.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

using namespace dnnl;
using dt = memory::data_type;
using tag = memory::format_tag;

namespace {

struct ConvParams {
  int64_t n, ih, iw, ic, oh, ow, oc, kh, kw, sh, sw, pt, pb, pl, pr;
  int64_t groups;  // 1 or ic (depthwise, oc = ic * multiplier)
  int act;         // 0 none, 1 relu, 2 relu6
  bool bias;
};

struct Env {
  engine eng{engine::kind::cpu, 0};
  stream strm{eng};
};

Env& env() {
  thread_local Env e;
  return e;
}

memory::desc actDesc(int64_t n, int64_t c, int64_t h, int64_t w) { return memory::desc({n, c, h, w}, dt::f32, tag::nhwc); }

// TF weights: HWIO for plain convs, [kh, kw, in, mult] for depthwise.
memory::desc userWeightsDesc(const ConvParams& p) {
  if (p.groups == 1) {
    return memory::desc({p.oc, p.ic, p.kh, p.kw}, dt::f32, {1, p.oc, p.kw * p.ic * p.oc, p.ic * p.oc});
  }
  const int64_t g = p.groups, mult = p.oc / p.groups, icg = p.ic / p.groups;
  return memory::desc({g, mult, icg, p.kh, p.kw}, dt::f32, {mult, 1, 1, p.kw * g * mult, g * mult});
}

memory::desc anyWeightsDesc(const ConvParams& p) {
  if (p.groups == 1) return memory::desc({p.oc, p.ic, p.kh, p.kw}, dt::f32, tag::any);
  return memory::desc({p.groups, p.oc / p.groups, p.ic / p.groups, p.kh, p.kw}, dt::f32, tag::any);
}

std::string keyOf(const char* kind, const ConvParams& p) {
  std::ostringstream s;
  s << kind << ':' << p.n << ',' << p.ih << ',' << p.iw << ',' << p.ic << ',' << p.oh << ',' << p.ow << ',' << p.oc << ','
    << p.kh << ',' << p.kw << ',' << p.sh << ',' << p.sw << ',' << p.pt << ',' << p.pb << ',' << p.pl << ',' << p.pr << ','
    << p.groups << ',' << p.act << ',' << p.bias;
  return s.str();
}

convolution_forward::primitive_desc forwardPd(const ConvParams& p, prop_kind kind) {
  auto& e = env();
  memory::desc bias = p.bias ? memory::desc({p.oc}, dt::f32, tag::x) : memory::desc();
  convolution_forward::desc d(kind, algorithm::convolution_direct, actDesc(p.n, p.ic, p.ih, p.iw), anyWeightsDesc(p), bias,
                              actDesc(p.n, p.oc, p.oh, p.ow), {p.sh, p.sw}, {p.pt, p.pl}, {p.pb, p.pr});
  primitive_attr attr;
  if (p.act != 0) {
    post_ops ops;
    if (p.act == 1) ops.append_eltwise(1.f, algorithm::eltwise_relu, 0.f, 0.f);
    if (p.act == 2) ops.append_eltwise(1.f, algorithm::eltwise_clip, 0.f, 6.f);
    attr.set_post_ops(ops);
  }
  return convolution_forward::primitive_desc(d, attr, e.eng);
}

struct Forward {
  convolution_forward::primitive_desc pd;
  convolution_forward prim;
  reorder weightsReorder;  // user -> pd layout (empty when equal)
  memory weights;
};

struct BackwardData {
  convolution_backward_data::primitive_desc pd;
  convolution_backward_data prim;
  reorder weightsReorder;
  memory weights;
};

struct BackwardWeights {
  convolution_backward_weights::primitive_desc pd;
  convolution_backward_weights prim;
  reorder weightsReorder;  // pd layout -> user
  memory diffWeights;
};

template <typename T>
std::unordered_map<std::string, std::unique_ptr<T>>& cache() {
  thread_local std::unordered_map<std::string, std::unique_ptr<T>> c;
  return c;
}

constexpr size_t kMaxCached = 512;

template <typename T, typename Build>
T& cached(const char* kind, const ConvParams& p, Build build) {
  auto& c = cache<T>();
  auto key = keyOf(kind, p);
  auto it = c.find(key);
  if (it != c.end()) return *it->second;
  // Every new shape (another batch size, another model) adds JIT code and a weights buffer; a long-lived
  // process that sees many shapes starts over rather than growing without bound.
  if (c.size() >= kMaxCached) c.clear();
  return *(c[key] = build());
}

// A buffer in the primitive's weights layout and the reorder between it and TF's layout; both stay empty
// when the layouts agree (the primitive then reads or writes the user's buffer directly).
void weightsBridge(const memory::desc& primitiveLayout, const ConvParams& p, bool toUser, memory& buffer, reorder& r) {
  auto& e = env();
  const memory::desc user = userWeightsDesc(p);
  if (primitiveLayout == user) return;
  buffer = memory(primitiveLayout, e.eng);
  r = toUser ? reorder(buffer, memory(user, e.eng, nullptr)) : reorder(memory(user, e.eng, nullptr), buffer);
}

// The forward convolution a backward one is the gradient of: no bias, no activation (tfjs differentiates those apart).
ConvParams plain(const ConvParams& p) {
  ConvParams q = p;
  q.bias = false;
  q.act = 0;
  return q;
}

Forward& forward(const ConvParams& p) {
  return cached<Forward>("f", p, [&] {
    auto f = std::make_unique<Forward>();
    f->pd = forwardPd(p, prop_kind::forward_inference);
    f->prim = convolution_forward(f->pd);
    weightsBridge(f->pd.weights_desc(), p, false, f->weights, f->weightsReorder);
    return f;
  });
}

BackwardData& backwardData(const ConvParams& p) {
  return cached<BackwardData>("d", p, [&] {
    convolution_backward_data::desc d(algorithm::convolution_direct, actDesc(p.n, p.ic, p.ih, p.iw), anyWeightsDesc(p),
                                      actDesc(p.n, p.oc, p.oh, p.ow), {p.sh, p.sw}, {p.pt, p.pl}, {p.pb, p.pr});
    auto b = std::make_unique<BackwardData>();
    b->pd = convolution_backward_data::primitive_desc(d, env().eng, forwardPd(plain(p), prop_kind::forward_training));
    b->prim = convolution_backward_data(b->pd);
    weightsBridge(b->pd.weights_desc(), p, false, b->weights, b->weightsReorder);
    return b;
  });
}

BackwardWeights& backwardWeights(const ConvParams& p) {
  return cached<BackwardWeights>("w", p, [&] {
    convolution_backward_weights::desc d(algorithm::convolution_direct, actDesc(p.n, p.ic, p.ih, p.iw), anyWeightsDesc(p),
                                         actDesc(p.n, p.oc, p.oh, p.ow), {p.sh, p.sw}, {p.pt, p.pl}, {p.pb, p.pr});
    auto b = std::make_unique<BackwardWeights>();
    b->pd = convolution_backward_weights::primitive_desc(d, env().eng, forwardPd(plain(p), prop_kind::forward_training));
    b->prim = convolution_backward_weights(b->pd);
    weightsBridge(b->pd.diff_weights_desc(), p, true, b->diffWeights, b->weightsReorder);
    return b;
  });
}

int64_t num(const Napi::Object& o, const char* k) { return o.Get(k).As<Napi::Number>().Int64Value(); }

ConvParams paramsFrom(const Napi::Value& v) {
  auto o = v.As<Napi::Object>();
  ConvParams p{num(o, "n"), num(o, "ih"), num(o, "iw"), num(o, "ic"), num(o, "oh"), num(o, "ow"), num(o, "oc"), num(o, "kh"),
               num(o, "kw"), num(o, "sh"), num(o, "sw"), num(o, "pt"), num(o, "pb"), num(o, "pl"), num(o, "pr"),
               num(o, "groups"), static_cast<int>(num(o, "act")), false};
  return p;
}

float* dataOf(const Napi::Env& env, const Napi::Value& v, size_t want, const char* name) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    Napi::TypeError::New(env, std::string(name) + ": expected a Float32Array").ThrowAsJavaScriptException();
    return nullptr;
  }
  auto a = v.As<Napi::Float32Array>();
  if (a.ElementLength() != want) {
    Napi::RangeError::New(env, std::string(name) + ": expected " + std::to_string(want) + " elements, got " +
                                   std::to_string(a.ElementLength()))
        .ThrowAsJavaScriptException();
    return nullptr;
  }
  return a.Data();
}

size_t weightCount(const ConvParams& p) { return static_cast<size_t>(p.kh * p.kw * (p.ic / p.groups) * p.oc); }

template <typename F>
Napi::Value guarded(const Napi::Env& env, F&& f) {
  try {
    f();
  } catch (const dnnl::error& err) {
    Napi::Error::New(env, std::string("oneDNN: ") + err.what()).ThrowAsJavaScriptException();
  } catch (const std::exception& err) {
    Napi::Error::New(env, err.what()).ThrowAsJavaScriptException();
  }
  return env.Undefined();
}

// conv2dForward(params, x, w, bias | null, y)
Napi::Value Conv2dForward(const Napi::CallbackInfo& info) {
  auto jsEnv = info.Env();
  ConvParams p = paramsFrom(info[0]);
  p.bias = !info[3].IsNull() && !info[3].IsUndefined();
  float* x = dataOf(jsEnv, info[1], p.n * p.ih * p.iw * p.ic, "x");
  float* w = x ? dataOf(jsEnv, info[2], weightCount(p), "filter") : nullptr;
  float* b = w && p.bias ? dataOf(jsEnv, info[3], p.oc, "bias") : nullptr;
  float* y = w && (b || !p.bias) ? dataOf(jsEnv, info[4], p.n * p.oh * p.ow * p.oc, "out") : nullptr;
  if (!y) return jsEnv.Undefined();
  return guarded(jsEnv, [&] {
    auto& e = env();
    auto& f = forward(p);
    memory user(userWeightsDesc(p), e.eng, w);
    memory weights = user;
    if (f.weights) {
      f.weightsReorder.execute(e.strm, user, f.weights);
      weights = f.weights;
    }
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, memory(f.pd.src_desc(), e.eng, x)},
                                         {DNNL_ARG_WEIGHTS, weights},
                                         {DNNL_ARG_DST, memory(f.pd.dst_desc(), e.eng, y)}};
    if (p.bias) args[DNNL_ARG_BIAS] = memory(f.pd.bias_desc(), e.eng, b);
    f.prim.execute(e.strm, args);
    e.strm.wait();
  });
}

// conv2dBackwardData(params, dy, w, dx)
Napi::Value Conv2dBackwardData(const Napi::CallbackInfo& info) {
  auto jsEnv = info.Env();
  ConvParams p = paramsFrom(info[0]);
  float* dy = dataOf(jsEnv, info[1], p.n * p.oh * p.ow * p.oc, "dy");
  float* w = dy ? dataOf(jsEnv, info[2], weightCount(p), "filter") : nullptr;
  float* dx = w ? dataOf(jsEnv, info[3], p.n * p.ih * p.iw * p.ic, "out") : nullptr;
  if (!dx) return jsEnv.Undefined();
  return guarded(jsEnv, [&] {
    auto& e = env();
    auto& b = backwardData(p);
    memory user(userWeightsDesc(p), e.eng, w);
    memory weights = user;
    if (b.weights) {
      b.weightsReorder.execute(e.strm, user, b.weights);
      weights = b.weights;
    }
    b.prim.execute(e.strm, {{DNNL_ARG_DIFF_DST, memory(b.pd.diff_dst_desc(), e.eng, dy)},
                            {DNNL_ARG_WEIGHTS, weights},
                            {DNNL_ARG_DIFF_SRC, memory(b.pd.diff_src_desc(), e.eng, dx)}});
    e.strm.wait();
  });
}

// conv2dBackwardWeights(params, x, dy, dw)
Napi::Value Conv2dBackwardWeights(const Napi::CallbackInfo& info) {
  auto jsEnv = info.Env();
  ConvParams p = paramsFrom(info[0]);
  float* x = dataOf(jsEnv, info[1], p.n * p.ih * p.iw * p.ic, "x");
  float* dy = x ? dataOf(jsEnv, info[2], p.n * p.oh * p.ow * p.oc, "dy") : nullptr;
  float* dw = dy ? dataOf(jsEnv, info[3], weightCount(p), "out") : nullptr;
  if (!dw) return jsEnv.Undefined();
  return guarded(jsEnv, [&] {
    auto& e = env();
    auto& b = backwardWeights(p);
    memory user(userWeightsDesc(p), e.eng, dw);
    memory target = b.diffWeights ? b.diffWeights : user;
    b.prim.execute(e.strm, {{DNNL_ARG_SRC, memory(b.pd.src_desc(), e.eng, x)},
                            {DNNL_ARG_DIFF_DST, memory(b.pd.diff_dst_desc(), e.eng, dy)},
                            {DNNL_ARG_DIFF_WEIGHTS, target}});
    if (b.diffWeights) b.weightsReorder.execute(e.strm, b.diffWeights, user);
    e.strm.wait();
  });
}

// implementations(params) -> { forward, backwardData, backwardWeights } names of the chosen oneDNN kernels
Napi::Value Implementations(const Napi::CallbackInfo& info) {
  auto jsEnv = info.Env();
  ConvParams p = paramsFrom(info[0]);
  auto out = Napi::Object::New(jsEnv);
  guarded(jsEnv, [&] {
    out.Set("forward", forward(p).pd.impl_info_str());
    out.Set("backwardData", backwardData(p).pd.impl_info_str());
    out.Set("backwardWeights", backwardWeights(p).pd.impl_info_str());
  });
  return out;
}

// Elementwise helpers for the training step, parallel over rows of the [m, c] view of an NHWC tensor.

// affineChannels(x, scale, shift, y): y = x * scale[c] + shift[c] (inference BatchNorm).
Napi::Value AffineChannels(const Napi::CallbackInfo& info) {
  auto jsEnv = info.Env();
  auto xa = info[0].As<Napi::Float32Array>();
  auto sa = info[1].As<Napi::Float32Array>();
  const size_t c = sa.ElementLength();
  if (c == 0 || xa.ElementLength() % c != 0) {
    Napi::RangeError::New(jsEnv, "affineChannels: x size is not a multiple of the channel count").ThrowAsJavaScriptException();
    return jsEnv.Undefined();
  }
  float* t = dataOf(jsEnv, info[2], c, "shift");
  float* y = t ? dataOf(jsEnv, info[3], xa.ElementLength(), "out") : nullptr;
  if (!y) return jsEnv.Undefined();
  const float* x = xa.Data();
  const float* s = sa.Data();
  const int64_t m = static_cast<int64_t>(xa.ElementLength() / c);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < m; i++) {
    const float* xr = x + i * c;
    float* yr = y + i * c;
#pragma omp simd
    for (size_t j = 0; j < c; j++) yr[j] = xr[j] * s[j] + t[j];
  }
  return jsEnv.Undefined();
}

// channelSums(dy, x, sumDy, sumDyX): per-channel sums of dy and dy * x (BatchNorm's offset and scale gradients).
Napi::Value ChannelSums(const Napi::CallbackInfo& info) {
  auto jsEnv = info.Env();
  auto dya = info[0].As<Napi::Float32Array>();
  auto sa = info[2].As<Napi::Float32Array>();
  const size_t c = sa.ElementLength();
  if (c == 0 || dya.ElementLength() % c != 0) {
    Napi::RangeError::New(jsEnv, "channelSums: dy size is not a multiple of the channel count").ThrowAsJavaScriptException();
    return jsEnv.Undefined();
  }
  float* x = dataOf(jsEnv, info[1], dya.ElementLength(), "x");
  float* sdx = x ? dataOf(jsEnv, info[3], c, "sumDyX") : nullptr;
  if (!sdx) return jsEnv.Undefined();
  const float* dy = dya.Data();
  float* sd = sa.Data();
  const int64_t m = static_cast<int64_t>(dya.ElementLength() / c);
  const int threads = omp_get_max_threads();
  std::vector<double> part(static_cast<size_t>(threads) * c * 2, 0.0);
#pragma omp parallel num_threads(threads)
  {
    double* a = part.data() + static_cast<size_t>(omp_get_thread_num()) * c * 2;
    double* b = a + c;
#pragma omp for schedule(static)
    for (int64_t i = 0; i < m; i++) {
      const float* d = dy + i * c;
      const float* xr = x + i * c;
      for (size_t j = 0; j < c; j++) {
        a[j] += d[j];
        b[j] += d[j] * xr[j];
      }
    }
  }
  for (size_t j = 0; j < c; j++) {
    double a = 0, b = 0;
    for (int k = 0; k < threads; k++) {
      a += part[static_cast<size_t>(k) * c * 2 + j];
      b += part[static_cast<size_t>(k) * c * 2 + c + j];
    }
    sd[j] = static_cast<float>(a);
    sdx[j] = static_cast<float>(b);
  }
  return jsEnv.Undefined();
}

// dy where the mask holds, else +0, without a branch: with `&&` and `?:` GCC branches per element, and a ReLU's mask
// on real activations is close to random, so half of those branches mispredict (2-10x slower, measured). Selecting
// by bits keeps the select's meaning exactly (a NaN dy where the mask fails still gives 0).
inline float keepIf(bool keep, float dy) {
  uint32_t bits;
  std::memcpy(&bits, &dy, sizeof bits);
  bits &= 0u - static_cast<uint32_t>(keep);
  float out;
  std::memcpy(&out, &bits, sizeof out);
  return out;
}

// maskGrad(x, dy, lo, hi, loInclusive, out): out = dy where x passes (lo, hi] / [lo, hi], else 0 (ReLU, ClipByValue).
Napi::Value MaskGrad(const Napi::CallbackInfo& info) {
  auto jsEnv = info.Env();
  auto xa = info[0].As<Napi::Float32Array>();
  const size_t n = xa.ElementLength();
  float* dy = dataOf(jsEnv, info[1], n, "dy");
  float* out = dy ? dataOf(jsEnv, info[5], n, "out") : nullptr;
  if (!out) return jsEnv.Undefined();
  const float lo = info[2].As<Napi::Number>().FloatValue();
  const float hi = info[3].As<Napi::Number>().FloatValue();
  const bool loInclusive = info[4].As<Napi::Boolean>().Value();
  const float* x = xa.Data();
  const int64_t len = static_cast<int64_t>(n);
  if (loInclusive) {
#pragma omp parallel for simd schedule(static)
    for (int64_t i = 0; i < len; i++) out[i] = keepIf((x[i] >= lo) & (x[i] <= hi), dy[i]);
  } else {
#pragma omp parallel for simd schedule(static)
    for (int64_t i = 0; i < len; i++) out[i] = keepIf((x[i] > lo) & (x[i] <= hi), dy[i]);
  }
  return jsEnv.Undefined();
}

// maskGradSums(y, dy, lo, hi, out, sums): out = dy where lo < y <= hi, else 0 (an activation's gradient from its
// output), and sums[c] = the per-channel (last axis) sum of out (the bias gradient), in one pass.
Napi::Value MaskGradSums(const Napi::CallbackInfo& info) {
  auto jsEnv = info.Env();
  auto ya = info[0].As<Napi::Float32Array>();
  auto sa = info[5].As<Napi::Float32Array>();
  const size_t n = ya.ElementLength();
  const size_t c = sa.ElementLength();
  if (c == 0 || n % c != 0) {
    Napi::RangeError::New(jsEnv, "maskGradSums: y size is not a multiple of the channel count").ThrowAsJavaScriptException();
    return jsEnv.Undefined();
  }
  float* dy = dataOf(jsEnv, info[1], n, "dy");
  float* out = dy ? dataOf(jsEnv, info[4], n, "out") : nullptr;
  if (!out) return jsEnv.Undefined();
  const float lo = info[2].As<Napi::Number>().FloatValue();
  const float hi = info[3].As<Napi::Number>().FloatValue();
  const float* y = ya.Data();
  float* sums = sa.Data();
  const int64_t m = static_cast<int64_t>(n / c);
  const int threads = omp_get_max_threads();
  std::vector<double> part(static_cast<size_t>(threads) * c, 0.0);
#pragma omp parallel num_threads(threads)
  {
    double* a = part.data() + static_cast<size_t>(omp_get_thread_num()) * c;
#pragma omp for schedule(static)
    for (int64_t i = 0; i < m; i++) {
      const float* yr = y + i * c;
      const float* d = dy + i * c;
      float* o = out + i * c;
      for (size_t j = 0; j < c; j++) {
        const float v = keepIf((yr[j] > lo) & (yr[j] <= hi), d[j]);
        o[j] = v;
        a[j] += v;
      }
    }
  }
  for (size_t j = 0; j < c; j++) {
    double a = 0;
    for (int k = 0; k < threads; k++) a += part[static_cast<size_t>(k) * c + j];
    sums[j] = static_cast<float>(a);
  }
  return jsEnv.Undefined();
}

// Denormal floats (below 1.2e-38) flushed to zero on this thread while it lives (x86 MXCSR FTZ + DAZ). Adam's second
// moment drifts into that range for weights with tiny gradients (590k of 3.7M moment values above layer 100 of
// MobileNetV2 1.0 after a few steps), and x86 computes with denormals about 50x slower.
struct FlushDenormals {
#if defined(__SSE2__)
  unsigned int saved = _mm_getcsr();
  FlushDenormals() { _mm_setcsr(saved | 0x8040); }
  ~FlushDenormals() { _mm_setcsr(saved); }
#endif
};

// adamUpdate(w, m, v, g, wOut, mOut, vOut, beta1, oneMinusBeta1, beta2, oneMinusBeta2, c1, c2, eps, negLr): one pass
// of tfjs' Adam (same float32 operations in the same order, so the same numbers):
//   m' = m*beta1 + g*(1-beta1); v' = v*beta2 + (g*g)*(1-beta2); w' = ((m'/c1) / (sqrt(v'/c2) + eps))*(-lr) + w
// where c1 = 1 - beta1^t and c2 = 1 - beta2^t. Writes new buffers (tfjs tensors may share the old ones). One
// difference: denormal values are flushed to zero (see FlushDenormals; next to epsilon they change nothing).
Napi::Value AdamUpdate(const Napi::CallbackInfo& info) {
  auto jsEnv = info.Env();
  auto wa = info[0].As<Napi::Float32Array>();
  const size_t n = wa.ElementLength();
  float* m = dataOf(jsEnv, info[1], n, "m");
  float* v = m ? dataOf(jsEnv, info[2], n, "v") : nullptr;
  float* g = v ? dataOf(jsEnv, info[3], n, "g") : nullptr;
  float* wOut = g ? dataOf(jsEnv, info[4], n, "wOut") : nullptr;
  float* mOut = wOut ? dataOf(jsEnv, info[5], n, "mOut") : nullptr;
  float* vOut = mOut ? dataOf(jsEnv, info[6], n, "vOut") : nullptr;
  if (!vOut) return jsEnv.Undefined();
  float k[8];
  for (int i = 0; i < 8; i++) k[i] = info[7 + i].As<Napi::Number>().FloatValue();
  const float beta1 = k[0], omb1 = k[1], beta2 = k[2], omb2 = k[3], c1 = k[4], c2 = k[5], eps = k[6], negLr = k[7];
  const float* w = wa.Data();
  const int64_t len = static_cast<int64_t>(n);
#pragma omp parallel if (len > 32768)
  {
    FlushDenormals flush;
#pragma omp for simd schedule(static)
    for (int64_t i = 0; i < len; i++) {
      const float mi = m[i] * beta1 + g[i] * omb1;
      const float vi = v[i] * beta2 + (g[i] * g[i]) * omb2;
      mOut[i] = mi;
      vOut[i] = vi;
      wOut[i] = ((mi / c1) / (std::sqrt(vi / c2) + eps)) * negLr + w[i];
    }
  }
  return jsEnv.Undefined();
}

// ---- data pipeline ----------------------------------------------------------------------------------------

int64_t reflectIndex(int64_t i, int64_t n) {
  const int64_t period = 2 * n;
  int64_t m = i % period;
  if (m < 0) m += period;
  return m < n ? m : period - 1 - m;
}

// floor() without the libm call (baseline x86-64 has no SSE4.1 round): exact for |v| < 2^63.
inline double floorExact(double v) {
  const double t = static_cast<double>(static_cast<int64_t>(v));
  return t > v ? t - 1 : t;
}

// One size x size RGB image through the affine warp of src/main/core/pipeline/augment.ts (applyAugmentParams),
// operation for operation in doubles (built with -ffp-contract=off), so the bytes equal the JavaScript path's.
void warpImage(const uint8_t* src, uint8_t* dst, int64_t n, const double* k) {
  const double axx = k[0], axy = k[1], ayx = k[2], ayy = k[3], shiftX = k[4], shiftY = k[5];
  const double c = static_cast<double>(n - 1) / 2;
  int64_t o = 0;
  for (int64_t y = 0; y < n; y++) {
    const double v = static_cast<double>(y) - c - shiftY;
    double sx = axx * (-c - shiftX) + axy * v + c;
    double sy = ayx * (-c - shiftX) + ayy * v + c;
    for (int64_t x = 0; x < n; x++, sx += axx, sy += ayx, o += 3) {
      const double fx0 = floorExact(sx);
      const double fy0 = floorExact(sy);
      const double wx = sx - fx0;
      const double wy = sy - fy0;
      const int64_t x0 = static_cast<int64_t>(fx0);
      const int64_t y0 = static_cast<int64_t>(fy0);
      int64_t ix0, ix1, iy0, iy1;
      if (x0 >= 0 && x0 < n - 1) {
        ix0 = x0;
        ix1 = x0 + 1;
      } else {
        ix0 = reflectIndex(x0, n);
        ix1 = reflectIndex(x0 + 1, n);
      }
      if (y0 >= 0 && y0 < n - 1) {
        iy0 = y0;
        iy1 = y0 + 1;
      } else {
        iy0 = reflectIndex(y0, n);
        iy1 = reflectIndex(y0 + 1, n);
      }
      const int64_t p00 = (iy0 * n + ix0) * 3, p01 = (iy0 * n + ix1) * 3, p10 = (iy1 * n + ix0) * 3, p11 = (iy1 * n + ix1) * 3;
      const double w00 = (1 - wx) * (1 - wy);
      const double w01 = wx * (1 - wy);
      const double w10 = (1 - wx) * wy;
      const double w11 = wx * wy;
      for (int ch = 0; ch < 3; ch++) {
        const double val = src[p00 + ch] * w00 + src[p01 + ch] * w01 + src[p10 + ch] * w10 + src[p11 + ch] * w11;
        dst[o + ch] = static_cast<uint8_t>(val + 0.5);
      }
    }
  }
}

// warpAffineBatch(src, dst, size, coefficients): count images of size x size x 3; coefficients holds 6 doubles per
// image (axx, axy, ayx, ayy, shiftX, shiftY), or NaN first for "copy unchanged". Images in parallel.
Napi::Value WarpAffineBatch(const Napi::CallbackInfo& info) {
  auto jsEnv = info.Env();
  auto srcA = info[0].As<Napi::Uint8Array>();
  auto dstA = info[1].As<Napi::Uint8Array>();
  const int64_t n = info[2].As<Napi::Number>().Int64Value();
  auto kA = info[3].As<Napi::Float64Array>();
  const int64_t count = static_cast<int64_t>(kA.ElementLength() / 6);
  const size_t per = static_cast<size_t>(n * n * 3);
  if (n <= 0 || kA.ElementLength() % 6 != 0 || srcA.ElementLength() != per * count || dstA.ElementLength() != per * count) {
    Napi::RangeError::New(jsEnv, "warpAffineBatch: buffer sizes do not match size and image count").ThrowAsJavaScriptException();
    return jsEnv.Undefined();
  }
  const uint8_t* src = srcA.Data();
  uint8_t* dst = dstA.Data();
  const double* k = kA.Data();
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t i = 0; i < count; i++) {
    const double* ki = k + i * 6;
    if (std::isnan(ki[0])) std::copy(src + i * per, src + (i + 1) * per, dst + i * per);
    else warpImage(src + i * per, dst + i * per, n, ki);
  }
  return jsEnv.Undefined();
}

// pixelsToFloat(src, dst, scale, offset): the model input, dst = float(src) * scale + offset in float32, each
// operation rounded to float as the wasm Mul and Add kernels do (no fused multiply-add: -ffp-contract=off).
Napi::Value PixelsToFloat(const Napi::CallbackInfo& info) {
  auto jsEnv = info.Env();
  auto srcA = info[0].As<Napi::Uint8Array>();
  float* dst = dataOf(jsEnv, info[1], srcA.ElementLength(), "dst");
  if (!dst) return jsEnv.Undefined();
  const float scale = info[2].As<Napi::Number>().FloatValue();
  const float offset = info[3].As<Napi::Number>().FloatValue();
  const uint8_t* src = srcA.Data();
  const int64_t n = static_cast<int64_t>(srcA.ElementLength());
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; i++) {
    const float scaled = static_cast<float>(src[i]) * scale;
    dst[i] = scaled + offset;
  }
  return jsEnv.Undefined();
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  omp_set_num_threads(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  auto jsEnv = info.Env();
  auto v = dnnl_version();
  auto out = Napi::Object::New(jsEnv);
  out.Set("version", std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch));
  out.Set("threads", omp_get_max_threads());
  out.Set("isa", static_cast<int>(get_effective_cpu_isa()));
  out.Set("cachedPrimitives", static_cast<double>(cache<Forward>().size() + cache<BackwardData>().size() +
                                                  cache<BackwardWeights>().size()));
  return out;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("conv2dForward", Napi::Function::New(env, Conv2dForward));
  exports.Set("conv2dBackwardData", Napi::Function::New(env, Conv2dBackwardData));
  exports.Set("conv2dBackwardWeights", Napi::Function::New(env, Conv2dBackwardWeights));
  exports.Set("implementations", Napi::Function::New(env, Implementations));
  exports.Set("affineChannels", Napi::Function::New(env, AffineChannels));
  exports.Set("channelSums", Napi::Function::New(env, ChannelSums));
  exports.Set("warpAffineBatch", Napi::Function::New(env, WarpAffineBatch));
  exports.Set("pixelsToFloat", Napi::Function::New(env, PixelsToFloat));
  exports.Set("maskGrad", Napi::Function::New(env, MaskGrad));
  exports.Set("adamUpdate", Napi::Function::New(env, AdamUpdate));
  exports.Set("maskGradSums", Napi::Function::New(env, MaskGradSums));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("info", Napi::Function::New(env, Info));
  return exports;
}

}  // namespace

NODE_API_MODULE(tunelab_dnnl, Init)
