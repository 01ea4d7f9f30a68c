#!/usr/bin/python3
"""PyTorch peer for `npm run bench`: what a careful engineer would write on a 2-core CPU box.

One measurement per invocation (clean peak memory), one JSON line on stdout.

  peer.py info
  peer.py forward  --model mobilenet_v2_1.0_160 [--reps 4] [--memory-format auto|contiguous|channels_last]
  peer.py finetune --model mobilenet_v2_1.0_160 [--steps 4]
  peer.py check    --weights DIR            (DIR from `bench/ours.ts export-weights`)
  peer.py phase1   --data cats_and_dogs_filtered --weights DIR [--split split.json] [--epochs 10] [--workers 2]

Fairness choices: torch threads = cores (Debian's build defaults to 1), model.eval(), torch.inference_mode()
for pure forward, frozen parameters with requires_grad=False (autograd records nothing below the first
trainable layer), channels_last when it measures faster than contiguous, batch 32.

Weights: no download is possible here, so `forward` and `finetune` use random weights (speed only), and
`phase1` maps our MobileNetV2 0.35 @224 ImageNet weights (Teachable Machine export, as our loader reads them)
onto torchvision's MobileNetV2(width_mult=0.35). Keras pads stride-2 convolutions asymmetrically
(ZeroPadding2D ((0,1),(0,1)) then 'valid'); torchvision pads 1 on every side, so every stride-2 conv gets an
explicit ZeroPad2d((0,1,0,1)) and padding 0. BatchNorm eps is Keras's 1e-3.
"""
import argparse
import json
import os
import random
import resource
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torchvision
from torchvision.models import mobilenet_v2

BATCH = 32
CORES = os.cpu_count() or 1
torch.set_num_threads(CORES)

MODELS = {
    'mobilenet_v2_1.0_160': (1.0, 160),
    'mobilenet_v2_0.35_224': (0.35, 224),
}


def peak_mib():
    self_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round((self_kib + child_kib) / 1024)


def emit(obj):
    obj['peak_mib'] = peak_mib()
    obj['torch'] = torch.__version__
    obj['threads'] = torch.get_num_threads()
    print(json.dumps(obj), flush=True)


def cpu_s():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def build(model_id, keras_padding=False):
    if model_id not in MODELS:
        sys.exit(f'peer.py: unknown --model {model_id} (expected one of {", ".join(MODELS)})')
    alpha, size = MODELS[model_id]
    m = mobilenet_v2(weights=None, width_mult=alpha)
    if keras_padding:
        keras_pad_stride2(m)
    for mod in m.modules():
        if isinstance(mod, nn.BatchNorm2d):
            mod.eps = 1e-3
    return m, size


def keras_pad_stride2(model):
    """Replace each stride-2 conv (symmetric pad 1) by ZeroPad2d((0,1,0,1)) + conv with padding 0, as Keras does."""
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.Conv2d) and child.stride == (2, 2):
                child.padding = (0, 0)
                setattr(parent, name, nn.Sequential(nn.ZeroPad2d((0, 1, 0, 1)), child))


def timed(images, reps, fn):
    fn()  # warm-up (allocations, oneDNN primitive creation)
    c0 = cpu_s()
    t = time.perf_counter()
    for _ in range(reps):
        fn()
    wall = time.perf_counter() - t
    return {'ips': images * reps / wall, 'wall_s': wall, 'cpu_s': cpu_s() - c0}


def cmd_info(_args):
    emit({'what': 'info', 'torchvision': torchvision.__version__, 'mkldnn': torch.backends.mkldnn.is_available(),
          'cores': CORES, 'config': torch.__config__.parallel_info().splitlines()[:6]})


def cmd_forward(args):
    m, size = build(args.model)
    m.eval()
    torch.manual_seed(0)
    x0 = torch.rand(BATCH, 3, size, size) * 2 - 1
    results = {}
    formats = ['contiguous', 'channels_last'] if args.memory_format == 'auto' else [args.memory_format]
    for fmt in formats:
        mf = torch.channels_last if fmt == 'channels_last' else torch.contiguous_format
        mm = m.to(memory_format=mf)
        x = x0.contiguous(memory_format=mf)

        def fwd():
            with torch.inference_mode():
                mm.features(x).mean((2, 3))

        results[fmt] = timed(BATCH, args.reps, fwd)
    best = max(results, key=lambda k: results[k]['ips'])
    emit({'what': 'forward', 'base': args.model, 'batch': BATCH, 'memory_format': best, **results[best],
          'by_memory_format': {k: round(v['ips'], 2) for k, v in results.items()}})


def freeze_below_keras_layer_100(m):
    """Keras layer 100 of MobileNetV2 is block_11_expand_relu: block_11's expand conv + BN (layers 98-99) stay
    frozen, its depthwise conv onwards trains. torchvision: features[0] = Conv1, features[k] = block_(k-1), so
    freeze features[:12] and features[12].conv[0] (the expand Conv2dNormActivation)."""
    trainable = []
    for i, f in enumerate(m.features):
        for p in f.parameters():
            p.requires_grad = False
        if i == 12:
            for sub in list(f.conv)[1:]:
                for p in sub.parameters():
                    p.requires_grad = True
        elif i > 12:
            for p in f.parameters():
                p.requires_grad = True
    trainable = [p for p in m.parameters() if p.requires_grad]
    return trainable


def cmd_finetune(args):
    m, size = build(args.model)
    head = nn.Linear(m.last_channel, 1)
    trainable = freeze_below_keras_layer_100(m) + list(head.parameters())
    m.eval()  # BatchNorm in inference mode (moving statistics), as in the TF tutorial's phase 2
    torch.manual_seed(0)
    x0 = torch.rand(BATCH, 3, size, size) * 2 - 1
    y = (torch.arange(BATCH) % 2).float().unsqueeze(1)
    opt = torch.optim.Adam(trainable, lr=1e-5)
    loss_fn = nn.BCEWithLogitsLoss()
    results = {}
    formats = ['contiguous', 'channels_last'] if args.memory_format == 'auto' else [args.memory_format]
    for fmt in formats:
        mf = torch.channels_last if fmt == 'channels_last' else torch.contiguous_format
        mm = m.to(memory_format=mf)
        x = x0.contiguous(memory_format=mf)

        def step():
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(head(mm.features(x).mean((2, 3))), y)
            loss.backward()
            opt.step()

        results[fmt] = timed(BATCH, args.steps, step)
    best = max(results, key=lambda k: results[k]['ips'])
    emit({'what': 'finetune', 'base': args.model, 'batch': BATCH, 'memory_format': best,
          'trainable_tensors': len(trainable), **results[best],
          'by_memory_format': {k: round(v['ips'], 2) for k, v in results.items()}})


# ---------- weights from our loader (bench/ours.ts export-weights) ----------

def load_converted(weights_dir):
    meta = json.load(open(os.path.join(weights_dir, 'weights.json')))
    flat = np.fromfile(os.path.join(weights_dir, 'weights.bin'), dtype='<f4')
    m, size = build(meta['base'], keras_padding=True)
    ours = []  # (kind, tensors) in Keras layer order
    for layer in meta['layers']:
        ws = {w['name'].split('/')[-1]: flat[w['offset']:w['offset'] + int(np.prod(w['shape']))].reshape(w['shape'])
              for w in layer['weights']}
        cls = layer['className']
        if cls == 'Conv2D':
            if 'bias' in ws:
                sys.exit(f'peer.py: {layer["name"]}: unexpected conv bias')
            ours.append(('conv', layer['name'], ws['kernel'].transpose(3, 2, 0, 1)))  # HWIO -> OIHW
        elif cls == 'DepthwiseConv2D':
            ours.append(('conv', layer['name'], ws['depthwise_kernel'].transpose(2, 3, 0, 1)))  # HWC1 -> C1HW
        elif cls == 'BatchNormalization':
            ours.append(('bn', layer['name'], ws))
        else:
            sys.exit(f'peer.py: {layer["name"]}: no mapping for a {cls} layer with weights')
    mods = [mod for mod in m.features.modules() if isinstance(mod, (nn.Conv2d, nn.BatchNorm2d))]
    if len(mods) != len(ours):
        sys.exit(f'peer.py: {len(ours)} weighted Keras layers vs {len(mods)} torch conv/bn modules')
    with torch.no_grad():
        for mod, (kind, name, w) in zip(mods, ours):
            if kind == 'conv':
                if not isinstance(mod, nn.Conv2d) or tuple(mod.weight.shape) != w.shape:
                    sys.exit(f'peer.py: {name} {w.shape} does not fit {mod}')
                mod.weight.copy_(torch.from_numpy(np.ascontiguousarray(w)))
            else:
                if not isinstance(mod, nn.BatchNorm2d) or mod.num_features != w['gamma'].shape[0]:
                    sys.exit(f'peer.py: {name} does not fit {mod}')
                mod.weight.copy_(torch.from_numpy(w['gamma']))
                mod.bias.copy_(torch.from_numpy(w['beta']))
                mod.running_mean.copy_(torch.from_numpy(w['moving_mean']))
                mod.running_var.copy_(torch.from_numpy(w['moving_variance']))
    m.eval()
    return m, size


def cmd_check(args):
    m, size = load_converted(args.weights)
    meta = json.load(open(os.path.join(args.weights, 'check.json')))
    n, s, f = len(meta['images']), meta['size'], meta['features']
    raw = np.fromfile(os.path.join(args.weights, 'check.bin'), dtype=np.uint8)
    px = raw[:n * s * s * 3].reshape(n, s, s, 3)
    ours = np.frombuffer(raw[n * s * s * 3:].tobytes(), dtype='<f4').reshape(n, f)
    x = torch.from_numpy(px.astype(np.float32) / 127.5 - 1).permute(0, 3, 1, 2).contiguous()
    with torch.inference_mode():
        theirs = m.features(x).mean((2, 3)).numpy()
    diff = float(np.abs(theirs - ours).max())
    emit({'what': 'check', 'images': n, 'max_abs_diff': diff, 'max_abs_feature': float(np.abs(ours).max()),
          'ok': diff < 1e-2})


# ---------- recipe A phase 1, the tutorial's way ----------

def list_split(data, split_file, seed):
    """[(path, label)] for train/validation/test. With a split file (exported from our run) both sides use the
    same images; otherwise the tutorial's: folder train, validation minus a random 20% that becomes test."""
    classes = ['cats', 'dogs']
    if split_file:
        s = json.load(open(split_file))
        return {k: [(os.path.join(data, p), classes.index(c)) for p, c in s[k]] for k in ('train', 'validation', 'test')}
    out = {}
    for split in ('train', 'validation'):
        out[split] = [(os.path.join(data, split, c, f), i) for i, c in enumerate(classes)
                      for f in sorted(os.listdir(os.path.join(data, split, c))) if f.endswith('.jpg')]
    rng = random.Random(seed)
    val = out['validation'][:]
    rng.shuffle(val)
    k = len(val) // 5
    out['test'], out['validation'] = val[:k], val[k:]
    return out


class Images(torch.utils.data.Dataset):
    def __init__(self, items, size):
        from torchvision import transforms
        self.items = items
        self.tf = transforms.Compose([
            transforms.Resize((size, size)),  # squash, bilinear (tf.keras image_dataset_from_directory's default)
            transforms.ToTensor(),
            transforms.Normalize([0.5] * 3, [0.5] * 3),  # MobileNetV2 preprocessing: [-1, 1]
        ])

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        from PIL import Image
        path, label = self.items[i]
        with Image.open(path) as im:
            return self.tf(im.convert('RGB')), label


def cmd_phase1(args):
    t0 = time.perf_counter()
    if args.weights:
        base, size = load_converted(args.weights)
        weights = 'imagenet (MobileNetV2 0.35 Teachable Machine weights converted from ours)'
    else:
        base, size = build('mobilenet_v2_0.35_224', keras_padding=True)
        weights = 'random (accuracy NOT comparable)'
    for p in base.parameters():
        p.requires_grad = False
    base.eval()
    mf = torch.channels_last if args.memory_format == 'channels_last' else torch.contiguous_format
    base = base.to(memory_format=mf)
    torch.manual_seed(args.seed)
    head = nn.Sequential(nn.Dropout(0.2), nn.Linear(base.last_channel, 1))
    if args.head_init == 'keras':
        # The tutorial's head is tf.keras.layers.Dense(1): glorot-uniform kernel, zero bias (PyTorch's Linear
        # default is uniform(+-1/sqrt(fan_in)) for both, about 2.4x narrower here, which converges faster).
        nn.init.xavier_uniform_(head[1].weight)
        nn.init.zeros_(head[1].bias)
    opt = torch.optim.Adam(head.parameters(), lr=1e-4)
    loss_fn = nn.BCEWithLogitsLoss()
    splits = list_split(args.data, args.split, args.seed)
    g = torch.Generator()
    g.manual_seed(args.seed)
    kw = dict(batch_size=BATCH, num_workers=args.workers, persistent_workers=args.workers > 0)
    train_dl = torch.utils.data.DataLoader(Images(splits['train'], size), shuffle=True, generator=g, **kw)
    val_dl = torch.utils.data.DataLoader(Images(splits['validation'], size), shuffle=False, **kw)
    test_dl = torch.utils.data.DataLoader(Images(splits['test'], size), shuffle=False, **kw)

    def features(x):
        with torch.no_grad():
            return base.features(x.contiguous(memory_format=mf)).mean((2, 3))

    def evaluate(dl):
        head.eval()
        correct = n = 0
        loss = 0.0
        with torch.inference_mode():
            for x, y in dl:
                logits = head(features(x)).squeeze(1)
                loss += float(loss_fn(logits, y.float())) * len(y)
                correct += int(((logits > 0).long() == y).sum())
                n += len(y)
        return {'accuracy': correct / max(n, 1), 'loss': loss / max(n, 1), 'count': n}

    history = []
    for epoch in range(args.epochs):
        te = time.perf_counter()
        head.train()
        correct = n = 0
        for x, y in train_dl:
            f = features(x)
            logits = head(f).squeeze(1)
            loss = loss_fn(logits, y.float())
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            correct += int(((logits.detach() > 0).long() == y).sum())
            n += len(y)
        val = evaluate(val_dl)
        history.append({'epoch': epoch + 1, 'acc': correct / n, 'val_acc': val['accuracy'], 'seconds': time.perf_counter() - te})
        print(json.dumps({'event': 'epoch', **history[-1]}), file=sys.stderr, flush=True)
    if args.fine_tune_epochs > 0:
        # The tutorial's phase 2: unfreeze from Keras layer 100, BatchNorm stays in inference mode (base.eval()),
        # every image through the whole network every epoch, Adam at the phase-1 rate / 10 (as ours by default).
        trainable = freeze_below_keras_layer_100(base) + list(head.parameters())
        opt2 = torch.optim.Adam(trainable, lr=1e-5)
        for epoch in range(args.fine_tune_epochs):
            te = time.perf_counter()
            head.train()
            correct = n = 0
            for x, y in train_dl:
                logits = head(base.features(x.contiguous(memory_format=mf)).mean((2, 3))).squeeze(1)
                loss = loss_fn(logits, y.float())
                opt2.zero_grad(set_to_none=True)
                loss.backward()
                opt2.step()
                correct += int(((logits.detach() > 0).long() == y).sum())
                n += len(y)
            val = evaluate(val_dl)
            history.append({'epoch': args.epochs + epoch + 1, 'phase': 2, 'acc': correct / n, 'val_acc': val['accuracy'],
                            'seconds': time.perf_counter() - te})
            print(json.dumps({'event': 'epoch', **history[-1]}), file=sys.stderr, flush=True)
    test = evaluate(test_dl)
    emit({'what': 'phase1', 'fine_tune_epochs': args.fine_tune_epochs, 'weights': weights, 'head_init': args.head_init, 'seconds': time.perf_counter() - t0, 'epochs': args.epochs,
          'workers': args.workers, 'memory_format': args.memory_format,
          'counts': {k: len(v) for k, v in splits.items()}, 'split_from': args.split or 'tutorial (seeded 20% of validation)',
          'val_acc': history[-1]['val_acc'] if history else None, 'test_acc': test['accuracy'], 'history': history})


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('cmd', choices=['info', 'forward', 'finetune', 'check', 'phase1'])
    ap.add_argument('--model', default='mobilenet_v2_1.0_160')
    ap.add_argument('--reps', type=int, default=4)
    ap.add_argument('--steps', type=int, default=4)
    ap.add_argument('--memory-format', default='auto', choices=['auto', 'contiguous', 'channels_last'])
    ap.add_argument('--weights')
    ap.add_argument('--data')
    ap.add_argument('--split')
    ap.add_argument('--epochs', type=int, default=10)
    ap.add_argument('--head-init', default='keras', choices=['keras', 'torch'],
                    help="phase1: the head's initialisation, Keras Dense's as in the tutorial (default) or PyTorch's Linear default")
    ap.add_argument('--fine-tune-epochs', type=int, default=0,
                    help='phase1: then this many fine-tuning epochs from Keras layer 100 (the whole TF tutorial)')
    ap.add_argument('--workers', type=int, default=CORES)
    ap.add_argument('--seed', type=int, default=42)
    args = ap.parse_args()
    if args.cmd == 'phase1':
        if not args.data or not os.path.isdir(args.data):
            sys.exit(f'peer.py phase1: --data {args.data}: not a directory')
        if args.memory_format == 'auto':
            args.memory_format = 'contiguous'
    {'info': cmd_info, 'forward': cmd_forward, 'finetune': cmd_finetune, 'check': cmd_check, 'phase1': cmd_phase1}[args.cmd](args)


if __name__ == '__main__':
    main()
