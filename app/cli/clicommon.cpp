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
    } catch (const std::exception &e) {
        std::cerr << "blockscope-cli " << command << ": internal error: " << e.what() << "\n";
        return ExitInternalError;
    }
}

} // namespace blockscope::cli
