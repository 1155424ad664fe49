#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace blockscope {

class JobContext;
class ModelHandle;
struct TensorInfo;

struct TensorStats
{
    std::uint64_t count = 0;
    double min = std::numeric_limits<double>::quiet_NaN();
    double max = std::numeric_limits<double>::quiet_NaN();
    double mean = 0;
    double std = 0; // population standard deviation of the finite values
    double l2 = 0;
    double zeroFraction = 0;
    std::uint64_t nanCount = 0;
    std::uint64_t infCount = 0;
};

// Statistics of one tensor's values, read in chunks from the memory map (checking for cancel
// between chunks). Throws std::invalid_argument for tensors that cannot be read as floats.
TensorStats computeTensorStats(const ModelHandle &model, const TensorInfo &tensor, JobContext *job = nullptr);

// Thread-safe cache of computed statistics for one model, keyed by tensor name.
class TensorStatsCache
{
public:
    std::optional<TensorStats> find(const std::string &name) const;
    void insert(const std::string &name, const TensorStats &stats);
    std::map<std::string, TensorStats> snapshot() const;
    std::size_t size() const;

private:
    mutable std::mutex m_mutex;
    std::map<std::string, TensorStats> m_stats;
};

// Computes statistics for every float-readable tensor not yet in `cache`, reporting progress by
// bytes. Stops at the next chunk when the job is cancelled; what was computed stays cached.
void computeAllTensorStats(const ModelHandle &model, TensorStatsCache &cache, JobContext &job);

} // namespace blockscope
