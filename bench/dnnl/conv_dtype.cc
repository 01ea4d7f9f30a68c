// One fine-tuning step's convolutions (forward, backward data, backward weights, with the reorders our addon
// would need) in float32 and in bfloat16, for the 1x1 shapes of MobileNetV2 0.35 @224 above layer 100.
// Measures whether bf16 is worth wiring into native/dnnl on this machine (JSON line per shape and dtype):
//   g++ -O2 -o /tmp/conv_dtype bench/dnnl/conv_dtype.cc -ldnnl && OMP_NUM_THREADS=2 /tmp/conv_dtype [batch]
#include <oneapi/dnnl/dnnl.hpp>
#include <chrono>
#include <cstdio>
#include <vector>
#include <cstdlib>
using namespace dnnl; using dt = memory::data_type; using tag = memory::format_tag;
double now(){return std::chrono::duration<double,std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();}
struct Shape{int n,h,w,ic,oc,k,s;};
void run(const Shape& S, dt t){
  engine eng(engine::kind::cpu,0); stream st(eng);
  int oh=(S.h+S.s-1)/S.s, ow=(S.w+S.s-1)/S.s; int pad=S.k/2;
  memory::desc srcU({S.n,S.ic,S.h,S.w},dt::f32,tag::nhwc), dstU({S.n,S.oc,oh,ow},dt::f32,tag::nhwc);
  memory::desc wU({S.oc,S.ic,S.k,S.k},dt::f32,tag::hwio);
  memory::desc srcA({S.n,S.ic,S.h,S.w},t,tag::nhwc), dstA({S.n,S.oc,oh,ow},t==dt::bf16?dt::f32:dt::f32,tag::nhwc), wA({S.oc,S.ic,S.k,S.k},t,tag::any);
  memory::desc dstD({S.n,S.oc,oh,ow},t,tag::nhwc), srcD({S.n,S.ic,S.h,S.w},dt::f32,tag::nhwc);
  convolution_forward::desc fd(prop_kind::forward_training,algorithm::convolution_direct,srcA,wA,memory::desc(),dstA,{S.s,S.s},{pad,pad},{pad,pad});
  convolution_forward::primitive_desc fpd(fd,eng);
  convolution_backward_data::desc bd(algorithm::convolution_direct,srcD,wA,dstD,{S.s,S.s},{pad,pad},{pad,pad});
  convolution_backward_data::primitive_desc bpd(bd,eng,fpd);
  memory::desc wDiff({S.oc,S.ic,S.k,S.k},dt::f32,tag::any);
  convolution_backward_weights::desc wd(algorithm::convolution_direct,srcA,wDiff,dstD,{S.s,S.s},{pad,pad},{pad,pad});
  convolution_backward_weights::primitive_desc wpd(wd,eng,fpd);
  memory src(srcU,eng), dst(dstU,eng), w(wU,eng), srcT(fpd.src_desc(),eng), wT(fpd.weights_desc(),eng), dstT(fpd.dst_desc(),eng);
  memory ddst(dstU,eng), ddstT(bpd.diff_dst_desc(),eng), wB(bpd.weights_desc(),eng), dsrc(bpd.diff_src_desc(),eng), dw(wpd.diff_weights_desc(),eng);
  auto fill=[](memory&m){auto*p=(float*)m.get_data_handle(); size_t n=m.get_desc().get_size()/4; for(size_t i=0;i<n;i++)p[i]=(i%97)*0.01f-0.4f;};
  fill(src);fill(w);fill(ddst);
  auto iter=[&]{
    reorder(src,srcT).execute(st,src,srcT); reorder(w,wT).execute(st,w,wT);
    convolution_forward(fpd).execute(st,{{DNNL_ARG_SRC,srcT},{DNNL_ARG_WEIGHTS,wT},{DNNL_ARG_DST,dstT}});
    reorder(ddst,ddstT).execute(st,ddst,ddstT); reorder(w,wB).execute(st,w,wB);
    convolution_backward_data(bpd).execute(st,{{DNNL_ARG_DIFF_DST,ddstT},{DNNL_ARG_WEIGHTS,wB},{DNNL_ARG_DIFF_SRC,dsrc}});
    convolution_backward_weights(wpd).execute(st,{{DNNL_ARG_SRC,srcT},{DNNL_ARG_DIFF_DST,ddstT},{DNNL_ARG_DIFF_WEIGHTS,dw}});
    st.wait();
  };
  for(int i=0;i<3;i++)iter();
  double t0=now(); int R=20; for(int i=0;i<R;i++)iter(); double ms=(now()-t0)/R;
  printf("{\"dtype\":\"%s\",\"n\":%d,\"h\":%d,\"w\":%d,\"ic\":%d,\"oc\":%d,\"k\":%d,\"stride\":%d,\"ms\":%.3f,\"impl\":\"%s\"}\n", t==dt::bf16?"bf16":"f32",S.n,S.h,S.w,S.ic,S.oc,S.k,S.s,ms, fpd.impl_info_str());
}
int main(int argc,char**argv){ int N=argc>1?atoi(argv[1]):32;
  std::vector<Shape> shapes={{N,7,7,112,1280,1,1},{N,14,14,32,192,1,1},{N,14,14,192,32,1,1},{N,7,7,56,336,1,1},{N,7,7,336,56,1,1},{N,7,7,336,112,1,1}};
  for(auto&s:shapes){run(s,dt::f32);run(s,dt::bf16);}
}
