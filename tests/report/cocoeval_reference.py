#!/usr/bin/python3
"""An independent oracle for ctprep's COCOeval: pycocotools' bbox evaluation
(evaluate/evaluateImg, accumulate, summarize) re-expressed with numpy, step for step,
for test cases: reads {"gt": <COCO dataset>, "dets": [results]} from argv[1] and
prints the 12 summary numbers (-1 undefined), then each class's AP, on one line.
pycocotools itself cannot be installed here (no PyPI); this follows its published
algorithm, including mergesort tie-breaking and numpy.linspace grids."""
import json
import sys

import numpy as np


def bb_iou(d, g, crowd):
    # maskApi.c bbIou
    out = np.zeros((len(d), len(g)))
    for j, G in enumerate(g):
        ga = G[2] * G[3]
        for i, D in enumerate(d):
            da = D[2] * D[3]
            w = min(D[2] + D[0], G[2] + G[0]) - max(D[0], G[0])
            if w <= 0:
                continue
            h = min(D[3] + D[1], G[3] + G[1]) - max(D[1], G[1])
            if h <= 0:
                continue
            i_ = w * h
            u = da if crowd[j] else da + ga - i_
            out[i, j] = i_ / u
    return out


def main():
    data = json.load(open(sys.argv[1]))
    gt, dets = data["gt"], data["dets"]
    iou_thrs = np.linspace(.5, 0.95, int(np.round((0.95 - .5) / .05)) + 1, endpoint=True)
    rec_thrs = np.linspace(.0, 1.00, int(np.round((1.00 - .0) / .01)) + 1, endpoint=True)
    max_dets = [1, 10, 100]
    area_rng = [[0 ** 2, 1e5 ** 2], [0 ** 2, 32 ** 2], [32 ** 2, 96 ** 2], [96 ** 2, 1e5 ** 2]]
    img_ids = sorted(im["id"] for im in gt["images"])
    cat_ids = sorted(c["id"] for c in gt["categories"])
    gts, dts = {}, {}
    by_img = {}
    for a in gt["annotations"]:
        by_img.setdefault(a["image_id"], []).append(a)
    for i in img_ids:
        for a in by_img.get(i, []):
            g = dict(a)
            g["ignore"] = 1 if g.get("iscrowd", 0) else 0
            gts.setdefault((i, g["category_id"]), []).append(g)
    for n, d in enumerate(dets):
        d = dict(d)
        d["area"] = d["bbox"][2] * d["bbox"][3]
        d["id"] = n + 1
        d["iscrowd"] = 0
        dts.setdefault((d["image_id"], d["category_id"]), []).append(d)

    ious = {}
    for i in img_ids:
        for k in cat_ids:
            g = gts.get((i, k), [])
            d = dts.get((i, k), [])
            if not g and not d:
                ious[i, k] = []
                continue
            inds = np.argsort([-x["score"] for x in d], kind="mergesort")
            d = [d[j] for j in inds][: max_dets[-1]]
            if not g or not d:
                ious[i, k] = []
                continue
            ious[i, k] = bb_iou([x["bbox"] for x in d], [x["bbox"] for x in g],
                                [int(x["iscrowd"]) for x in g])

    def evaluate_img(i, k, rng, max_det):
        g = gts.get((i, k), [])
        d = dts.get((i, k), [])
        if not g and not d:
            return None
        for x in g:
            x["_ignore"] = 1 if (x["ignore"] or x["area"] < rng[0] or x["area"] > rng[1]) else 0
        gtind = np.argsort([x["_ignore"] for x in g], kind="mergesort")
        g = [g[j] for j in gtind]
        dtind = np.argsort([-x["score"] for x in d], kind="mergesort")
        d = [d[j] for j in dtind[0:max_det]]
        crowd = [int(x["iscrowd"]) for x in g]
        iou = ious[i, k][:, gtind] if len(ious[i, k]) > 0 else ious[i, k]
        T, G, D = len(iou_thrs), len(g), len(d)
        gtm, dtm = np.zeros((T, G)), np.zeros((T, D))
        gt_ig = np.array([x["_ignore"] for x in g])
        dt_ig = np.zeros((T, D))
        if len(iou) != 0:
            for ti, t in enumerate(iou_thrs):
                for di in range(D):
                    best = min([t, 1 - 1e-10])
                    m = -1
                    for gi in range(G):
                        if gtm[ti, gi] > 0 and not crowd[gi]:
                            continue
                        if m > -1 and gt_ig[m] == 0 and gt_ig[gi] == 1:
                            break
                        if iou[di, gi] < best:
                            continue
                        best = iou[di, gi]
                        m = gi
                    if m == -1:
                        continue
                    dt_ig[ti, di] = gt_ig[m]
                    dtm[ti, di] = g[m]["id"]
                    gtm[ti, m] = d[di]["id"]
        a = np.array([x["area"] < rng[0] or x["area"] > rng[1] for x in d]).reshape((1, D))
        dt_ig = np.logical_or(dt_ig, np.logical_and(dtm == 0, np.repeat(a, T, 0)))
        return {"dtMatches": dtm, "dtScores": [x["score"] for x in d], "gtIgnore": gt_ig,
                "dtIgnore": dt_ig}

    evals = {(k, a, i): evaluate_img(i, k, rng, max_dets[-1])
             for k in cat_ids for a, rng in enumerate(area_rng) for i in img_ids}
    T, R, K, A, M = len(iou_thrs), len(rec_thrs), len(cat_ids), len(area_rng), len(max_dets)
    precision = -np.ones((T, R, K, A, M))
    recall = -np.ones((T, K, A, M))
    for ki, k in enumerate(cat_ids):
        for a in range(A):
            for mi, max_det in enumerate(max_dets):
                E = [evals[k, a, i] for i in img_ids]
                E = [e for e in E if e is not None]
                if not E:
                    continue
                scores = np.concatenate([e["dtScores"][0:max_det] for e in E])
                inds = np.argsort(-scores, kind="mergesort")
                dtm = np.concatenate([e["dtMatches"][:, 0:max_det] for e in E], axis=1)[:, inds]
                dt_ig = np.concatenate([e["dtIgnore"][:, 0:max_det] for e in E], axis=1)[:, inds]
                gt_ig = np.concatenate([e["gtIgnore"] for e in E])
                npig = np.count_nonzero(gt_ig == 0)
                if npig == 0:
                    continue
                tps = np.logical_and(dtm, np.logical_not(dt_ig))
                fps = np.logical_and(np.logical_not(dtm), np.logical_not(dt_ig))
                tp_sum = np.cumsum(tps, axis=1).astype(dtype=float)
                fp_sum = np.cumsum(fps, axis=1).astype(dtype=float)
                for t, (tp, fp) in enumerate(zip(tp_sum, fp_sum)):
                    nd = len(tp)
                    rc = tp / npig
                    pr = (tp / (fp + tp + np.spacing(1))).tolist()
                    q = [0.0] * R
                    recall[t, ki, a, mi] = rc[-1] if nd else 0
                    for j in range(nd - 1, 0, -1):
                        if pr[j] > pr[j - 1]:
                            pr[j - 1] = pr[j]
                    for ri, pi in enumerate(np.searchsorted(rc, rec_thrs, side="left")):
                        if pi >= nd:
                            break
                        q[ri] = pr[pi]
                    precision[t, :, ki, a, mi] = np.array(q)

    def summarize(ap, iou_thr=None, area=0, md=100):
        mind = max_dets.index(md)
        s = precision if ap else recall
        if iou_thr is not None:
            s = s[np.where(iou_thr == iou_thrs)[0]]
        s = s[:, :, :, area, mind] if ap else s[:, :, area, mind]
        return -1.0 if len(s[s > -1]) == 0 else float(np.mean(s[s > -1]))

    stats = [summarize(1), summarize(1, .5), summarize(1, .75), summarize(1, None, 1),
             summarize(1, None, 2), summarize(1, None, 3), summarize(0, None, 0, 1),
             summarize(0, None, 0, 10), summarize(0), summarize(0, None, 1),
             summarize(0, None, 2), summarize(0, None, 3)]
    class_ap = []
    for ki in range(K):
        s = precision[:, :, ki, 0, 2]
        class_ap.append(-1.0 if len(s[s > -1]) == 0 else float(np.mean(s[s > -1])))
    print(" ".join(repr(v) for v in stats + class_ap))


main()
