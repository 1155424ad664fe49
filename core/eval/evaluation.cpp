#include "evaluation.h"

#include "common/formaterror.h"
#include "jobs/jobcontext.h"
#include "model/decoder.h"
#include "model/modelhandle.h"
#include "runsetup.h"
#include "text/tokenizer.h"
#include "textstreams.h"
#include "windows.h"

#include <chrono>
#include <cstdio>
#include <sstream>

namespace blockscope {

namespace {

nlohmann::json resultJson(const PerplexityResult &r)
{
    return {
        {"perplexity", r.perplexity}, {"nll_sum", r.nllSum}, {"scored_tokens", r.scored}, {"mask", r.mask.describe()}};
}

} // namespace

EvaluationReport runEvaluation(const EvaluationRequest &req, JobContext &job)
{
    const auto start = std::chrono::steady_clock::now();
    job.stage("opening the model");
    auto model = ModelHandle::open(req.modelPath);
    const Architecture &a = model->architecture();

    const UnitMask mask = UnitMask::fromSkipLists(static_cast<int>(a.layers), req.skipAttn, req.skipMlp, req.skipBlock);

    Protocol protocol = resolveProtocol(req.protocol, req.context, req.stride, a.context);
    protocol.dtype = req.dtype;
    protocol.device = req.device;
    const DecoderOptions options = decoderOptionsFor(req.device, req.dtype);

    job.stage("tokenizing");
    const auto tokenizer = loadTokenizerFor(*model, req.tokenizerPath);
    TextPool pool = standalonePool(protocol);
    if (req.pool == "calibration")
        pool = TextPool::Calibration;
    else if (req.pool == "evaluation")
        pool = TextPool::Evaluation;
    else if (req.pool == "all")
        pool = TextPool::All;
    else if (req.pool != "auto")
        throw UsageError("--pool: unknown pool \"" + req.pool + "\" (auto, calibration, evaluation, all)");
    const WindowSet windows = windowsForText(req.textPath, *tokenizer, protocol, pool, req.maxWindows);
    job.checkpoint();

    Decoder decoder(model, options);
    EvaluationReport report;
    report.model = req.modelPath;
    report.perplexity = evaluatePerplexity(decoder, windows, mask, &job, req.batch);
    if (mask.skippedUnits() > 0) {
        report.densePerplexity
            = evaluatePerplexity(decoder, windows, UnitMask::dense(decoder.layers()), &job, req.batch);
        report.distance = compareToDense(decoder, windows, mask, &job, req.batch);
    }
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return report;
}

nlohmann::json EvaluationReport::toJson() const
{
    nlohmann::json j = {{"model", model}, {"protocol", perplexity.protocol.toJson()}, {"seconds", seconds}};
    j["result"] = resultJson(perplexity);
    if (densePerplexity)
        j["dense"] = resultJson(*densePerplexity);
    if (distance)
        j["distance_to_dense"] = {{"kl_per_token", distance->klPerToken}, {"js_finercut", distance->jsFinercut},
            {"kl_finercut", distance->klFinercut}, {"angular_last_hidden", distance->angular},
            {"tokens", distance->tokens}};
    return j;
}

std::string EvaluationReport::text() const
{
    std::ostringstream s;
    char line[256];
    std::snprintf(
        line, sizeof line, "perplexity:      %.4f  (%s)\n", perplexity.perplexity, perplexity.mask.describe().c_str());
    s << "model:           " << model << "\n" << line;
    if (densePerplexity) {
        std::snprintf(line, sizeof line, "dense:           %.4f\n", densePerplexity->perplexity);
        s << line;
    }
    if (distance) {
        std::snprintf(line, sizeof line, "KL(dense||cfg):  %.6f per token   JS (FinerCut): %.3g   angular: %.4f\n",
            distance->klPerToken, distance->jsFinercut, distance->angular);
        s << line;
    }
    s << perplexity.protocol.card();
    std::snprintf(line, sizeof line, "time:            %.1f s\n", seconds);
    s << line;
    return s.str();
}

} // namespace blockscope
