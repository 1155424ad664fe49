#include "gatetraining.h"
#include "sparseeval.h"

#include "attentionkernels.h"
#include "common/formaterror.h"
#include "common/mappedfile.h"
#include "dist/processgroup.h"
#include "eval/batching.h"
#include "eval/windows.h"
#include "gateimpl.h"
#include "jobs/jobcontext.h"
#include "model/checkpointreaders.h"
#include "model/decoder.h"
#include "model/safetensorswriter.h"
#include "model/tensorinfo.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/autograd.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>

namespace blockscope::sparse {

using nlohmann::json;

std::string GateTrainOptions::validate() const
{
    if (blockSize <= 0)
        return "--block: must be positive";
    if (steps < 1)
        return "--steps: must be at least 1";
    if (batch < 1)
        return "--batch: must be at least 1";
    if (!(lr > 0) || !std::isfinite(lr))
        return "--lr: must be a positive number";
    if (minLr < 0 || minLr > lr)
        return "--min-lr: must be between 0 and --lr";
    if (warmup < 0)
        return "--warmup: must not be negative";
    if (weightDecay < 0)
        return "--weight-decay: must not be negative";
    if (!(evalDensity > 0 && evalDensity <= 1))
        return "--eval-density: must be in (0, 1]";
    if (!(evalThreshold >= 0 && evalThreshold < 1))
        return "--eval-threshold: must be in [0, 1)";
    if (evalEvery < 0)
        return "--eval-every: must not be negative";
    return {};
}

namespace {

// §3 exact feature cache: per layer, pooled Q and K and the ground truth Ĝ of every window.
struct FeatureCache
{
    std::vector<at::Tensor> qPool, kPool, truth; // per layer: [W, nb, Hq, d], [W, nb, Hkv, 3d], [W, Hq, nb, nb]
    std::vector<at::Tensor> mass; // per layer [W, Hq, N, nb] (held-out sets only)
    std::int64_t windows = 0, tokensPerWindow = 0;
};

// With ranks (`group`), each runs every world-th batch of windows and one sum per tensor gives every
// rank the whole cache: each row comes from one rank, the others add zeros, so it is exact.
FeatureCache extractFeatures(const Decoder &decoder, const WindowSet &set, int blockSize, bool withMass,
    JobContext &job, const char *stage, dist::Group *group = nullptr)
{
    c10::NoGradGuard noGrad;
    const int L = decoder.layers();
    std::vector<std::vector<at::Tensor>> q(L), k(L), g(L), m(L);
    ForwardCapture cap;
    cap.attentionHook = [&](const AttentionInputs &in) {
        q[in.layer].push_back(avgPoolBlocks(in.queriesPreRope.to(at::kFloat), blockSize));
        k[in.layer].push_back(maxMinAvgPoolBlocks(in.keysPreRope.to(at::kFloat), blockSize));
        BlockAttentionMaps maps = blockAttentionMaps(in.queries.to(at::kFloat), in.keys.to(at::kFloat),
            in.values.to(at::kFloat), blockSize, in.scale, withMass, /*withOutput=*/true);
        g[in.layer].push_back(maps.truth);
        if (withMass)
            m[in.layer].push_back(maps.mass);
        return maps.output; // the dense output: training never changes the model's forward
    };
    const UnitMask dense = UnitMask::dense(L);
    job.stage(stage);
    const auto groups = equalShapeBatches(set, 8);
    if (group != nullptr && groups.size() < static_cast<std::size_t>(group->world()))
        group = nullptr; // fewer batches than ranks: every rank runs them all
    std::vector<bool> own(groups.size(), true);
    std::size_t done = 0;
    std::int64_t T = -1;
    for (std::size_t b = 0; b < groups.size(); ++b) {
        const auto &idx = groups[b];
        if (group != nullptr && static_cast<int>(b % static_cast<std::size_t>(group->world())) != group->rank()) {
            own[b] = false;
            continue;
        }
        job.checkpoint();
        at::Tensor tokens = batchTokens(set, idx);
        if (T >= 0 && tokens.size(1) != T)
            throw UsageError("gate training needs windows of one length; got " + std::to_string(T) + " and "
                + std::to_string(tokens.size(1)) + " tokens");
        T = tokens.size(1);
        decoder.forwardBlocks(decoder.embed(tokens), 0, L, dense, &cap);
        done += idx.size();
        job.progress(static_cast<double>(done), static_cast<double>(set.windows.size()));
    }
    // Rows in window order: this rank's batches, zeros of the same shape for the others'.
    const auto rows = [&](std::vector<at::Tensor> &mine) {
        if (group == nullptr)
            return at::cat(mine);
        std::vector<at::Tensor> all;
        std::size_t next = 0;
        for (std::size_t b = 0; b < groups.size(); ++b) {
            if (own[b]) {
                all.push_back(mine[next++]);
                continue;
            }
            std::vector<std::int64_t> shape = mine.front().sizes().vec();
            shape[0] = static_cast<std::int64_t>(groups[b].size());
            all.push_back(at::zeros(shape, mine.front().options()));
        }
        at::Tensor whole = at::cat(all);
        group->sum(whole);
        return whole;
    };
    if (group != nullptr) { // the window length, from a rank that ran one
        std::vector<double> t{static_cast<double>(group->isRoot() ? T : 0)};
        group->sum(t);
        T = static_cast<std::int64_t>(t.front());
    }
    FeatureCache c;
    c.windows = static_cast<std::int64_t>(set.windows.size());
    c.tokensPerWindow = T;
    for (int l = 0; l < L; ++l) {
        c.qPool.push_back(rows(q[l]));
        c.kPool.push_back(rows(k[l]));
        c.truth.push_back(rows(g[l]));
        if (withMass)
            c.mass.push_back(rows(m[l]));
    }
    return c;
}

// The batch of step s: epochs are seeded permutations of the windows, so any step's batch is a
// pure function of (seed, s) and a resumed run sees the same data.
std::vector<std::int64_t> batchFor(std::int64_t step, int batch, std::int64_t windows, std::uint64_t seed)
{
    std::vector<std::int64_t> out;
    const std::int64_t first = step * batch;
    std::int64_t epoch = -1;
    std::vector<std::int64_t> perm;
    for (std::int64_t i = first; i < first + batch; ++i) {
        const std::int64_t e = i / windows;
        if (e != epoch) {
            epoch = e;
            perm.resize(static_cast<std::size_t>(windows));
            std::iota(perm.begin(), perm.end(), 0);
            std::mt19937_64 rng(seed * 1000003ULL + static_cast<std::uint64_t>(e));
            for (std::int64_t j = windows - 1; j > 0; --j) {
                std::uniform_int_distribution<std::int64_t> pick(0, j);
                std::swap(perm[static_cast<std::size_t>(j)], perm[static_cast<std::size_t>(pick(rng))]);
            }
        }
        out.push_back(perm[static_cast<std::size_t>(i % windows)]);
    }
    return out;
}

double scheduledLr(const GateTrainOptions &o, std::int64_t step)
{
    // Hugging Face's cosine schedule with linear warm-up: step/warmup, then cosine to minLr.
    if (step < o.warmup)
        return o.lr * static_cast<double>(step) / static_cast<double>(std::max<std::int64_t>(1, o.warmup));
    const double progress
        = static_cast<double>(step - o.warmup) / static_cast<double>(std::max<std::int64_t>(1, o.steps - o.warmup));
    return o.minLr + (o.lr - o.minLr) * 0.5 * (1.0 + std::cos(M_PI * progress));
}

struct AdamState
{
    std::vector<at::Tensor> params, m, v;
    std::int64_t t = 0;
};

void adamwStep(AdamState &s, const GateTrainOptions &o, double lr)
{
    c10::NoGradGuard noGrad;
    ++s.t;
    const double bc1 = 1.0 - std::pow(o.beta1, static_cast<double>(s.t));
    const double bc2 = 1.0 - std::pow(o.beta2, static_cast<double>(s.t));
    for (std::size_t i = 0; i < s.params.size(); ++i) {
        at::Tensor &p = s.params[i];
        const at::Tensor g = p.grad();
        if (!g.defined())
            continue;
        if (o.weightDecay > 0)
            p.mul_(1.0 - lr * o.weightDecay);
        s.m[i].mul_(o.beta1).add_(g, 1.0 - o.beta1);
        s.v[i].mul_(o.beta2).addcmul_(g, g, 1.0 - o.beta2);
        at::Tensor denom = (s.v[i] / bc2).sqrt_().add_(o.eps);
        p.addcdiv_(s.m[i], denom, -lr / bc1);
        p.mutable_grad().zero_();
    }
}

std::string statePath(const std::string &out)
{
    return out + ".trainstate.safetensors";
}

void saveState(const std::string &path, const AdamState &s, std::int64_t nextStep, const json &history)
{
    std::vector<at::Tensor> keep;
    std::vector<SafetensorsEntry> entries;
    for (std::size_t i = 0; i < s.params.size(); ++i)
        for (const auto &[prefix, t] : {std::pair{"m.", s.m[i]}, std::pair{"v.", s.v[i]}}) {
            at::Tensor cpu = t.detach().to(at::kCPU, at::kFloat).contiguous();
            keep.push_back(cpu);
            entries.push_back({prefix + std::to_string(i), DType::F32, cpu.sizes().vec(),
                std::span<const std::byte>(
                    static_cast<const std::byte *>(cpu.data_ptr()), static_cast<std::size_t>(cpu.nbytes()))});
        }
    writeSafetensors(path, std::move(entries),
        {{"format", "blockscope.seergate.trainstate"}, {"next_step", std::to_string(nextStep)},
            {"adam_t", std::to_string(s.t)}, {"history", history.dump()}});
}

// Loads m and v into `s` (whose params are already the loaded gates); returns the next step.
std::int64_t loadState(const std::string &path, AdamState &s, json &history)
{
    auto file = MappedFile::open(path);
    std::vector<std::string> warnings;
    std::map<std::string, std::string> meta;
    const auto tensors = readSafetensorsTensors(*file, warnings, &meta);
    if (meta["format"] != "blockscope.seergate.trainstate")
        throw FormatError(path, FormatError::NoOffset, "__metadata__.format", "is not a gate training state");
    for (std::size_t i = 0; i < s.params.size(); ++i)
        for (auto [prefix, dst] : {std::pair{"m.", &s.m[i]}, std::pair{"v.", &s.v[i]}}) {
            const std::string name = prefix + std::to_string(i);
            auto it = std::find_if(tensors.begin(), tensors.end(), [&](const TensorInfo &t) { return t.name == name; });
            if (it == tensors.end() || it->dtype != DType::F32 || it->shape != dst->sizes().vec())
                throw FormatError(path, FormatError::NoOffset, name, "is missing or does not fit the gates");
            at::Tensor cpu = at::empty(it->shape, at::kFloat);
            std::memcpy(cpu.data_ptr(), file->data() + it->offset, static_cast<std::size_t>(cpu.nbytes()));
            *dst = cpu.to(dst->device());
        }
    try {
        s.t = std::stoll(meta.at("adam_t"));
        history = json::parse(meta.at("history"));
        return std::stoll(meta.at("next_step"));
    } catch (const std::exception &) {
        throw FormatError(path, FormatError::NoOffset, "__metadata__", "lacks next_step, adam_t or history");
    }
}

// The steps the gate file's recipe says it holds; -1 when it records none.
std::int64_t stepsDone(const GateSet &gates, const std::string &path)
{
    try {
        const json recipe = json::parse(gates.config().trainRecipe);
        if (recipe.contains("steps_done") && recipe["steps_done"].is_number_integer())
            return recipe["steps_done"].get<std::int64_t>();
    } catch (const json::exception &) {
        throw GateMismatch(path, "__metadata__.train_recipe", "is not JSON");
    }
    return -1;
}

GateEvalPoint evaluateGates(
    const GateSet &gates, const FeatureCache &held, const GateTrainOptions &o, std::int64_t step)
{
    c10::NoGradGuard noGrad;
    const GateSet::Impl &g = gates.impl();
    GateEvalPoint e;
    e.step = step;
    const int B = g.config.blockSize;
    const auto N = held.tokensPerWindow;
    double recall = 0, recallStatic = 0, recallRandom = 0, density = 0;
    std::int64_t count = 0;
    MaskRule byDensity{MaskRule::Kind::Density, o.evalDensity, false, false, false};
    MaskRule byThreshold{MaskRule::Kind::Threshold, o.evalThreshold, false, false, false};
    for (std::size_t l = 0; l < g.layers.size(); ++l) {
        at::Tensor S = gateLogitsFromPooled(held.qPool[l], held.kPool[l], g.layers[l], g.geometry());
        e.layerKl.push_back(gateDistillationLoss(S, held.truth[l]).item<double>());
        at::Tensor Scpu = S.cpu(), massCpu = held.mass[l].cpu().contiguous();
        const auto nb = S.size(2);
        const BlockMask fixed = staticMask(static_cast<int>(nb), o.evalDensity, false);
        for (std::int64_t w = 0; w < S.size(0); ++w)
            for (std::int64_t h = 0; h < S.size(1); ++h) {
                const BlockGrid grid = toGrid(Scpu[w][h]);
                at::Tensor tm = massCpu[w][h].contiguous();
                std::vector<float> tokenMass(tm.data_ptr<float>(), tm.data_ptr<float>() + tm.numel());
                const BlockGrid none;
                recall += maskStats(selectMask(grid, byDensity), static_cast<int>(N), B, tokenMass, none).recallMean;
                recallStatic += maskStats(fixed, static_cast<int>(N), B, tokenMass, none).recallMean;
                const BlockMask random = randomMask(static_cast<int>(nb), o.evalDensity,
                    static_cast<std::uint64_t>(count) * 7919 + static_cast<std::uint64_t>(step), false);
                recallRandom += maskStats(random, static_cast<int>(N), B, tokenMass, none).recallMean;
                density += maskStats(
                    selectMask(grid, byThreshold), static_cast<int>(N), B, {}, BlockGrid(static_cast<int>(nb)))
                               .tileDensity;
                ++count;
            }
    }
    e.kl = std::accumulate(e.layerKl.begin(), e.layerKl.end(), 0.0) / static_cast<double>(e.layerKl.size());
    e.recallAtDensity = recall / static_cast<double>(count);
    e.recallStaticAtDensity = recallStatic / static_cast<double>(count);
    e.recallRandomAtDensity = recallRandom / static_cast<double>(count);
    e.densityAtThreshold = density / static_cast<double>(count);
    return e;
}

json stepJson(const GateTrainStep &s)
{
    return {{"step", s.step}, {"lr", s.lr}, {"loss", s.loss}, {"layer_loss", s.layerLoss}, {"tokens", s.tokens},
        {"seconds", s.seconds}};
}

json evalJson(const GateEvalPoint &e)
{
    return {{"step", e.step}, {"layer_kl", e.layerKl}, {"kl", e.kl}, {"recall", e.recallAtDensity},
        {"recall_static", e.recallStaticAtDensity}, {"recall_random", e.recallRandomAtDensity},
        {"density_at_threshold", e.densityAtThreshold}};
}

} // namespace

GateTrainResult trainGates(const GateTrainRequest &request, JobContext &job)
{
    const GateTrainOptions &o = request.options;
    if (const std::string why = o.validate(); !why.empty())
        throw UsageError(why);
    if (!request.decoder || !request.calibration)
        throw std::invalid_argument("trainGates: a decoder and calibration windows are required");
    if (request.outPath.empty())
        throw UsageError("--out: a gate file path is required");
    const Decoder &decoder = *request.decoder;
    const auto started = std::chrono::steady_clock::now();
    auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(); };

    GateTrainResult result;
    json history = {{"steps", json::array()}, {"evals", json::array()}};
    std::int64_t firstStep = 0;
    const bool resuming = request.resume && std::filesystem::exists(statePath(request.outPath));
    GateSet gates
        = resuming ? GateSet::load(request.outPath, decoder) : GateSet::create(decoder, o.blockSize, o.seed, o.gateDim);
    if (resuming && gates.config().blockSize != o.blockSize)
        throw GateMismatch(request.outPath, "__metadata__.block_size",
            "is " + std::to_string(gates.config().blockSize) + " but --block asks for " + std::to_string(o.blockSize));
    GateSet::Impl &g = gates.impl();
    AdamState adam;
    for (auto &w : g.layers)
        for (at::Tensor *t : {&w.wk, &w.wq})
            if (t->defined()) {
                t->set_requires_grad(true);
                adam.params.push_back(*t);
                adam.m.push_back(at::zeros_like(*t));
                adam.v.push_back(at::zeros_like(*t));
            }
    if (resuming) {
        firstStep = loadState(statePath(request.outPath), adam, history);
        // The gate file and its state are written one after the other; a run killed between the two
        // leaves weights of one step beside moments of another, and continuing would replay steps
        // on weights that already hold them. Refuse the pair rather than train on it.
        const std::int64_t gateSteps = stepsDone(gates, request.outPath);
        if (gateSteps != firstStep)
            throw GateMismatch(request.outPath, "__metadata__.train_recipe.steps_done",
                "is " + std::to_string(gateSteps) + " but its training state " + statePath(request.outPath)
                    + " continues at step " + std::to_string(firstStep)
                    + ": the two were not written by the same step (a run stopped between writing them); "
                      "train again without --resume");
        result.resumed = true;
        for (const auto &s : history["steps"]) {
            GateTrainStep st;
            st.step = s["step"];
            st.lr = s["lr"];
            st.loss = s["loss"];
            st.layerLoss = s["layer_loss"].get<std::vector<double>>();
            st.tokens = s["tokens"];
            st.seconds = s["seconds"];
            result.steps.push_back(st);
        }
        for (const auto &s : history["evals"]) {
            GateEvalPoint e;
            e.step = s["step"];
            e.layerKl = s["layer_kl"].get<std::vector<double>>();
            e.kl = s["kl"];
            e.recallAtDensity = s["recall"];
            e.recallStaticAtDensity = s["recall_static"];
            e.recallRandomAtDensity = s["recall_random"];
            e.densityAtThreshold = s["density_at_threshold"];
            result.evals.push_back(e);
        }
    }

    if (!request.calibration->windows.empty())
        checkNoSlidingWindow(
            decoder, static_cast<std::int64_t>(request.calibration->windows.front().ids.size()), "gate training");
    const FeatureCache train
        = extractFeatures(decoder, *request.calibration, o.blockSize, false, job, "gates: caching training features",
            request.group != nullptr && request.group->world() > 1 ? request.group : nullptr);
    std::optional<FeatureCache> held;
    if (request.heldOut && !request.heldOut->windows.empty() && (request.group == nullptr || request.group->isRoot()))
        held = extractFeatures(decoder, *request.heldOut, o.blockSize, true, job, "gates: caching held-out features");

    dist::Group *const group = request.group != nullptr && request.group->world() > 1 ? request.group : nullptr;
    const bool root = group == nullptr || group->isRoot();
    auto evaluate = [&](std::int64_t step) {
        if (!held || !root)
            return;
        GateEvalPoint e = evaluateGates(gates, *held, o, step);
        result.evals.push_back(e);
        history["evals"].push_back(evalJson(e));
        if (request.onEval)
            request.onEval(e);
    };
    auto persist = [&](std::int64_t nextStep) {
        if (!root)
            return;
        json recipe = {{"data", request.calibration->protocol.oneLine()},
            {"text", request.calibration->protocol.textSource}, {"windows", train.windows},
            {"tokens_per_window", train.tokensPerWindow}, {"steps", o.steps}, {"batch", o.batch}, {"lr", o.lr},
            {"warmup", o.warmup}, {"seed", o.seed}, {"block_size", o.blockSize}, {"steps_done", nextStep},
            {"loss_at_end", result.steps.empty() ? json(nullptr) : json(result.steps.back().loss)}};
        gates.config().trainRecipe = recipe.dump();
        gates.save(request.outPath);
        saveState(statePath(request.outPath), adam, nextStep, history);
    };

    if (!resuming)
        evaluate(0);
    job.stage("gates: training");
    const double lossScale = o.lossScale;
    for (std::int64_t step = firstStep; step < o.steps; ++step) {
        if (group == nullptr && job.stopRequested()) {
            // Keep everything up to here, so that --resume continues from this very step.
            persist(step);
            throw JobCancelled();
        }
        const auto batch = batchFor(step, o.batch, train.windows, o.seed);
        // With ranks, this rank's share of the batch; the loss is a mean over the batch, so a
        // share's mean weighted by its size sums over the ranks to the whole batch's.
        std::vector<std::int64_t> idx;
        for (std::size_t i = 0; i < batch.size(); ++i)
            if (group == nullptr || static_cast<int>(i % static_cast<std::size_t>(group->world())) == group->rank())
                idx.push_back(batch[i]);
        const double share = static_cast<double>(idx.size()) / static_cast<double>(batch.size());
        // Per layer, then the total; with ranks, then whether this rank was asked to stop.
        std::vector<double> losses(g.layers.size() + (group != nullptr ? 2 : 1), 0.0);
        if (!idx.empty()) {
            at::Tensor index = at::tensor(idx, at::kLong).to(train.qPool.front().device());
            std::vector<at::Tensor> layerLosses;
            at::Tensor total;
            for (std::size_t l = 0; l < g.layers.size(); ++l) {
                at::Tensor S = gateLogitsFromPooled(train.qPool[l].index_select(0, index),
                    train.kPool[l].index_select(0, index), g.layers[l], g.geometry());
                at::Tensor loss = gateDistillationLoss(S, train.truth[l].index_select(0, index));
                if (group != nullptr)
                    loss = loss * share;
                layerLosses.push_back(loss);
                total = total.defined() ? total + loss : loss;
            }
            total = total * lossScale;
            torch::autograd::backward({total});
            for (std::size_t l = 0; l < layerLosses.size(); ++l)
                losses[l] = layerLosses[l].item<double>();
            losses[layerLosses.size()] = total.item<double>();
        }
        if (group != nullptr) {
            // One exchange a step: every gradient, flattened (a rank with no window adds zeros).
            c10::NoGradGuard noGrad;
            std::vector<at::Tensor> grads;
            for (const at::Tensor &p : adam.params)
                grads.push_back(p.grad().defined() ? p.grad().reshape(-1) : at::zeros({p.numel()}, p.options()));
            at::Tensor flat = at::cat(grads).to(at::kFloat).cpu().contiguous();
            losses.back() = job.stopRequested() ? 1.0 : 0.0;
            group->sum(flat);
            group->sum(losses);
            std::int64_t offset = 0;
            for (at::Tensor &p : adam.params) {
                at::Tensor summed = flat.narrow(0, offset, p.numel()).view(p.sizes()).to(p.options());
                if (p.grad().defined())
                    p.mutable_grad().copy_(summed);
                else
                    p.mutable_grad() = summed.clone();
                offset += p.numel();
            }
            // A stop asked of any rank stops them all at the same step, before its update.
            if (losses.back() > 0) {
                for (at::Tensor &p : adam.params)
                    if (p.grad().defined())
                        p.mutable_grad().zero_();
                persist(step);
                throw JobCancelled();
            }
            losses.pop_back();
        }
        const double lr = scheduledLr(o, step);
        adamwStep(adam, o, lr);
        GateTrainStep st;
        st.step = step;
        st.lr = lr;
        st.loss = losses.back();
        st.layerLoss.assign(losses.begin(), losses.end() - 1);
        st.tokens = (step + 1) * o.batch * train.tokensPerWindow;
        st.seconds = seconds();
        result.steps.push_back(st);
        history["steps"].push_back(stepJson(st));
        if (request.onStep)
            request.onStep(st);
        job.progress(static_cast<double>(step + 1), static_cast<double>(o.steps));
        const bool last = step + 1 == o.steps;
        if (last || (o.evalEvery > 0 && (step + 1) % o.evalEvery == 0)) {
            evaluate(step + 1);
            persist(step + 1);
        }
    }
    if (firstStep >= o.steps) // resumed a finished run: nothing to do, the file is as it was
        return result;
    for (auto &w : g.layers)
        for (at::Tensor *t : {&w.wk, &w.wq})
            if (t->defined())
                t->set_requires_grad(false);
    return result;
}

} // namespace blockscope::sparse
