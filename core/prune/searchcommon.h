#pragma once

// Internal to core/prune: what every search shares — the decoder, options, job, the step
// callback, the evaluation of each step's configuration, and the run's clock.

#include "calibrationscorer.h"
#include "trace.h"

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <tuple>
#include <vector>

namespace blockscope {

namespace dist {
class Group;
}

class Decoder;
class JobContext;
struct WindowSet;

class SearchContext
{
public:
    SearchContext(const Decoder &decoder, const WindowSet &calibration, const WindowSet *evaluation,
        const PruneOptions &options, JobContext &job, const std::function<void(const TraceStep &)> &onStep,
        PruneResult &result, const std::vector<TraceStep> &resume, const std::vector<CandidateRecord> &pending = {},
        const std::function<void(const CandidateRecord &)> &onCandidate = {}, dist::Group *group = nullptr);

    const Decoder &decoder;
    const WindowSet &calibration;
    const PruneOptions &options;
    JobContext &job;
    PruneResult &result;
    const std::vector<TraceStep> &resume;
    int layers;

    // Calibration sequences (the first calibrationWindows windows), with dense logits when the
    // score needs them.
    std::vector<ScoredSequence> sequences(ScoreKind kind) const;
    // Fills the step's wall time, perplexity and KL to dense, stores it and hands it out.
    void emit(TraceStep step);
    // Seconds since the run started, continuing a resumed run's count.
    double elapsed() const;
    bool isProtected(int layer) const;

    // The score an interrupted run already has for this candidate of the step after the resumed
    // ones (nullopt when it has none). Throws UsageError when the record is for another candidate
    // (`what`: the unit's label or the genome).
    std::optional<double> recall(int step, int stage, int index, const std::string &what);
    // The same for a candidate that may have stopped early: the whole record.
    std::optional<CandidateRecord> recallRecord(int step, int stage, int index, const std::string &what);
    // Hands a freshly scored candidate to the caller, who persists it.
    void scored(int step, int stage, int index, const std::string &what, double score) const;
    void scored(const CandidateRecord &record) const;
    // Candidates taken from the interrupted run instead of being scored again.
    int recalled() const { return m_recalled; }

    // Processes sharing the search (issue 16). Every rank runs the same search, draws the same
    // candidates and makes the same choices; each scores the candidates dealt to it, and one sum
    // per step hands every rank the others' scores. Alone (no group), every candidate is its own.
    dist::Group *group() const { return m_group; }
    bool isRoot() const;
    // Candidate `place` of a list (in the order it is scored) is this rank's: place mod world.
    bool mine(std::size_t place) const;
    // Work a scorer did, as the trace counts it.
    struct Work
    {
        std::int64_t evaluations = 0, forwards = 0, tokens = 0;
        static Work of(const CalibrationScorer &s) { return {s.evaluations(), s.sublayerForwards(), s.tokens()}; }
        Work operator-(const Work &o) const
        {
            return {evaluations - o.evaluations, forwards - o.forwards, tokens - o.tokens};
        }
        Work operator+(const Work &o) const
        {
            return {evaluations + o.evaluations, forwards + o.forwards, tokens + o.tokens};
        }
    };
    // One candidate's outcome as the ranks exchange it.
    struct Shared
    {
        double score = 0;
        bool lowerBound = false;
        std::int64_t tokens = 0;
        bool fresh = false; // scored now, not recalled from an interrupted run
    };
    // Completes `scores` with the entries other ranks scored (`own[i]`: this rank scored i) and
    // returns the work all ranks did on their candidates, `own` work included. The exchange is a
    // sum where each entry is nonzero on one rank only, so every value arrives bit for bit. Alone:
    // returns `ownWork`. Candidates other ranks recalled count in recalled().
    Work share(std::vector<Shared> &scores, const std::vector<bool> &own, const Work &ownWork);

private:
    struct Quality
    {
        double perplexity;
        double kl;
    };
    Quality evaluate(const UnitMask &mask);

    const WindowSet *m_evaluation;
    const std::function<void(const TraceStep &)> &m_onStep;
    std::chrono::steady_clock::time_point m_start;
    double m_offset = 0;
    std::map<std::pair<std::vector<bool>, std::vector<bool>>, Quality> m_memo;
    std::map<std::size_t, at::Tensor>
        m_denseEval; // dense final hidden states of (this rank's) evaluation batches, when they fit
    std::map<std::tuple<int, int, int>, CandidateRecord> m_pending;
    std::function<void(const CandidateRecord &)> m_onCandidate;
    int m_recalled = 0;
    dist::Group *m_group = nullptr;
};

// The searches, one per file.
void runSleb(SearchContext &ctx);
void runFinerCut(SearchContext &ctx);
void runEvoPress(SearchContext &ctx);
void runShortGpt(SearchContext &ctx);
void runAngular(SearchContext &ctx);

} // namespace blockscope
