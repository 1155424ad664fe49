#include "processprune.h"

#include "jobs/jobcontext.h"
#include "store/experimentfile.h"
#include "store/stepjson.h"

#include <QCoreApplication>
#include <QDir>
#include <QProcess>
#include <QStringList>
#include <QTemporaryFile>

#include <chrono>

#include <map>
#include <stdexcept>

namespace blockscope::views {

QString cliBesideApp()
{
    return QDir(QCoreApplication::applicationDirPath()).filePath(QStringLiteral("blockscope-cli"));
}

namespace {

// Splits complete lines off `buffer`.
QList<QByteArray> takeLines(QByteArray &buffer)
{
    QList<QByteArray> out;
    for (qsizetype nl; (nl = buffer.indexOf('\n')) >= 0;) {
        out.push_back(buffer.left(nl));
        buffer.remove(0, nl + 1);
    }
    return out;
}

} // namespace

PruneJobReport runPruneInProcesses(
    const PruneRequest &request, int processes, JobContext &job, const StepCallback &onStep, const QString &cli)
{
    QTemporaryFile file(QDir::temp().filePath(QStringLiteral("blockscope-prune-XXXXXX.json")));
    if (!file.open())
        throw std::runtime_error("cannot write the request for the processes: " + file.errorString().toStdString());
    file.write(QByteArray::fromStdString(pruneRequestJson(request).dump()));
    file.flush();

    QProcess process;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("BLOCKSCOPE_PROGRESS_LINES"), QStringLiteral("1"));
    process.setProcessEnvironment(env);
    job.stage("starting " + std::to_string(processes) + " processes");
    process.start(
        cli, {QStringLiteral("prune-json"), file.fileName(), QStringLiteral("--nproc"), QString::number(processes)});
    if (!process.waitForStarted(30000))
        throw std::runtime_error("cannot start " + cli.toStdString() + ": " + process.errorString().toStdString());

    PruneJobReport report;
    std::map<int, std::pair<double, QString>> ranks;
    QStringList messages;
    QByteArray out, err;
    bool asked = false;
    const auto started = std::chrono::steady_clock::now();
    const auto follow = [&] {
        out += process.readAllStandardOutput();
        err += process.readAllStandardError();
        for (const QByteArray &line : takeLines(out)) {
            const qsizetype space = line.indexOf(' ');
            const QByteArray kind = line.left(space), body = line.mid(space + 1);
            try {
                if (kind == "@step") {
                    report.result.steps.push_back(stepjson::parse(nlohmann::json::parse(body.toStdString())));
                    if (onStep)
                        onStep(report.result.steps.back());
                } else if (kind == "@candidate") {
                    const CandidateRecord c = stepjson::parseCandidate(nlohmann::json::parse(body.toStdString()));
                    if (request.onCandidate)
                        request.onCandidate(c);
                } else if (kind == "@run") {
                    const nlohmann::json r = nlohmann::json::parse(body.toStdString());
                    report.runId = r.at("id");
                    report.result.densePerplexity = stepjson::readNumber(r.at("dense_perplexity"), "dense");
                    if (request.onRunStarted) {
                        RunInfo info;
                        info.id = report.runId;
                        info.options = request.options;
                        info.densePerplexity = report.result.densePerplexity;
                        info.modelPath = request.modelPath;
                        info.calibrationPath = request.calibrationPath;
                        info.label = request.label;
                        info.status = "running";
                        request.onRunStarted(info);
                    }
                }
            } catch (const std::exception &e) {
                messages.push_back(QStringLiteral("unreadable line from rank 0 (%1)").arg(QString::fromUtf8(e.what())));
            }
        }
        bool moved = false;
        for (const QByteArray &line : takeLines(err)) {
            if (!line.startsWith("@progress ")) {
                if (!line.trimmed().isEmpty())
                    messages.push_back(QString::fromUtf8(line));
                continue;
            }
            // "@progress RANK FRACTION STAGE"
            const QList<QByteArray> parts = line.split(' ');
            if (parts.size() < 3)
                continue;
            const int rank = parts[1].toInt();
            ranks[rank] = {parts[2].toDouble(),
                QString::fromUtf8(line.mid(parts[0].size() + parts[1].size() + parts[2].size() + 3))};
            moved = true;
        }
        if (moved) {
            QStringList lines;
            double sum = 0;
            for (const auto &[rank, state] : ranks) {
                lines.push_back(QStringLiteral("rank %1 \u00b7 %2  %3%")
                                    .arg(rank)
                                    .arg(state.second)
                                    .arg(100 * state.first, 0, 'f', 0));
                sum += state.first;
            }
            job.stage(lines.join(QLatin1Char('\n')).toStdString());
            job.progress(sum / processes, 1.0);
        }
    };
    while (process.state() != QProcess::NotRunning) {
        if (job.stopRequested() && !asked) {
            process.terminate(); // the launcher passes it on to every rank as Ctrl-C
            asked = true;
        }
        process.waitForReadyRead(100);
        follow();
    }
    follow();
    if (process.exitStatus() == QProcess::CrashExit)
        throw std::runtime_error("the processes' launcher crashed: " + messages.join(QLatin1Char('\n')).toStdString());
    if (process.exitCode() == 130 || (asked && process.exitCode() != 0))
        throw JobCancelled();
    if (process.exitCode() != 0) {
        QStringList errors;
        for (const QString &m : messages)
            if (m.contains(QStringLiteral("blockscope-cli")) || m.startsWith(QStringLiteral("[rank")))
                errors.push_back(m);
        throw std::runtime_error((errors.isEmpty() ? messages : errors).join(QLatin1Char('\n')).toStdString());
    }
    // What the processes wrote is the run: its protocols and everything rank 0 printed.
    if (!request.experimentPath.empty() && !report.runId.empty()) {
        const Experiment e = ExperimentFile::read(request.experimentPath);
        if (const ExperimentRun *run = e.find(report.runId)) {
            report.calibration = run->info.calibrationProtocol;
            if (run->info.evaluationProtocol)
                report.evaluation = *run->info.evaluationProtocol;
            report.result.steps = run->steps;
            report.result.densePerplexity = run->info.densePerplexity;
        }
    }
    report.result.options = request.options;
    report.result.complete = true;
    if (!report.result.steps.empty()) {
        report.result.layers = report.result.steps.back().mask.layers();
        report.result.finalMask = report.result.steps.back().mask;
        report.result.removalOrder = report.result.steps.back().removedSoFar;
    }
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return report;
}

} // namespace blockscope::views
