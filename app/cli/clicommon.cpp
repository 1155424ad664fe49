#include "clicommon.h"

#include "common/formaterror.h"
#include "jobs/jobcontext.h"

#include <iostream>

namespace blockscope::cli {

int guarded(const std::string &command, const std::function<int()> &body)
{
    try {
        return body();
    } catch (const UsageError &e) {
        std::cerr << "blockscope-cli " << command << ": " << e.what() << "\n";
        return ExitUsage;
    } catch (const FormatError &e) {
        std::cerr << "blockscope-cli " << command << ": bad input: " << e.what() << "\n";
        return ExitBadInput;
    } catch (const JobCancelled &) {
        std::cerr << "blockscope-cli " << command << ": cancelled\n";
        return ExitCancelled;
    } catch (const std::invalid_argument &e) {
        // Core raises invalid_argument for requests it cannot run as asked (e.g. CUDA without a
        // device, a model that cannot compute): the user's to fix, not a bug.
        std::cerr << "blockscope-cli " << command << ": " << e.what() << "\n";
        return ExitUsage;
    } catch (const std::exception &e) {
        std::cerr << "blockscope-cli " << command << ": internal error: " << e.what() << "\n";
        return ExitInternalError;
    }
}

} // namespace blockscope::cli
