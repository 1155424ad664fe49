#include "numberednames.h"

#include <algorithm>
#include <cstdio>
#include <utility>

namespace blockscope::h5 {

std::string numberedName(const std::string &prefix, int number, int digits)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%0*d", digits, number);
    return prefix + buf;
}

int nameNumber(const std::string &name, const std::string &prefix, int digits)
{
    // At most nine digits: every such number fits an int.
    const std::size_t width = name.size() - std::min(name.size(), prefix.size());
    if (name.compare(0, prefix.size(), prefix) != 0 || width < static_cast<std::size_t>(digits) || width > 9)
        return -1;
    int n = 0;
    for (std::size_t i = prefix.size(); i < name.size(); ++i) {
        if (name[i] < '0' || name[i] > '9')
            return -1;
        n = n * 10 + (name[i] - '0');
    }
    return numberedName(prefix, n, digits) == name ? n : -1;
}

std::vector<std::string> numberedChildren(
    const Location &at, const std::string &prefix, int digits, const std::string &what, bool contiguous)
{
    std::vector<std::pair<int, std::string>> found;
    for (const auto &name : at.children()) {
        const int n = nameNumber(name, prefix, digits);
        if (n < 0)
            at.fail(at.child(name), "is not a " + what, false);
        found.emplace_back(n, name);
    }
    std::sort(found.begin(), found.end());
    std::vector<std::string> names;
    for (std::size_t i = 0; i < found.size(); ++i) {
        if (contiguous && found[i].first != static_cast<int>(i))
            at.fail(at.child(numberedName(prefix, static_cast<int>(i), digits)),
                "missing group (the numbering has a gap)", false);
        names.push_back(found[i].second);
    }
    return names;
}

} // namespace blockscope::h5
