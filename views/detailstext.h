#pragma once

#include <QString>

#include <cstdint>

namespace blockscope {
class ModelHandle;
struct TensorInfo;
struct TensorStats;
} // namespace blockscope

// HTML for the details pane, built without a widget so tests can read what the user will read.
namespace blockscope::views {

// The architecture summary core prints for `blockscope-cli inspect`, so both front ends agree.
QString modelDetailsHtml(const ModelHandle &model);
QString tensorDetailsHtml(const ModelHandle &model, const TensorInfo &tensor, const TensorStats *stats);

struct GroupTotals
{
    QString name;
    int tensorCount = 0;
    std::uint64_t parameters = 0;
    std::uint64_t bytes = 0;
    std::uint64_t modelParameters = 0; // for the share of the model this group holds
};
QString groupDetailsHtml(const GroupTotals &group, const TensorStats *combined);

} // namespace blockscope::views
