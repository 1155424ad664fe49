#include "evaluationpanel.h"

#include "formwidgets.h"

#include "eval/evaluation.h"
#include "jobs/jobcontext.h"

#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

namespace blockscope::views {

namespace {
std::vector<int> parseList(const QString &s)
{
    std::vector<int> out;
    for (const QString &part : s.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        bool ok = false;
        const int v = part.trimmed().toInt(&ok);
        out.push_back(ok ? v : -1); // -1 is refused by the engine with a message naming it
    }
    return out;
}
} // namespace

EvaluationPanel::EvaluationPanel(JobRunner *runner, QWidget *parent)
    : QWidget(parent)
    , m_runner(runner)
    , m_skipAttn(new QLineEdit(this))
    , m_skipMlp(new QLineEdit(this))
    , m_skipBlock(new QLineEdit(this))
{
    m_text->setPlaceholderText(tr("UTF-8 text, WikiText .raw or JSONL"));
    QHBoxLayout *textRow
        = openFileRow(m_text, tr("Evaluation text"), tr("Text (*.txt *.raw *.jsonl *.json);;All files (*)"));
    for (const char *p : {"tiny-ts", "sleb", "evopress", "sliding", "finercut"})
        m_protocol->addItem(QString::fromLatin1(p));
    m_maxWindows->setRange(0, 1000000);
    m_maxWindows->setSpecialValueText(tr("all"));
    m_maxWindows->setValue(32);
    for (QLineEdit *e : {m_skipAttn, m_skipMlp, m_skipBlock})
        e->setPlaceholderText(tr("e.g. 1,3"));
    auto *form = new QFormLayout;
    form->addRow(tr("Text"), textRow);
    form->addRow(tr("Protocol"), m_protocol);
    form->addRow(tr("Windows"), m_maxWindows);
    form->addRow(tr("Skip attention"), m_skipAttn);
    form->addRow(tr("Skip MLP"), m_skipMlp);
    form->addRow(tr("Skip blocks"), m_skipBlock);
    m_result->setReadOnly(true);
    m_result->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_result->setPlaceholderText(tr("Perplexity appears here with its protocol card."));
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_run);
    layout->addWidget(m_result, 1);
    connect(m_run, &QPushButton::clicked, this, &EvaluationPanel::run);
    m_run->setEnabled(false);
}

void EvaluationPanel::setModelPath(const QString &path)
{
    m_modelPath = path;
    m_run->setEnabled(!path.isEmpty());
}

void EvaluationPanel::setTextPath(const QString &path)
{
    m_text->setText(path);
}
void EvaluationPanel::setProtocol(const QString &preset)
{
    m_protocol->setCurrentText(preset);
}
void EvaluationPanel::setMaxWindows(int windows)
{
    m_maxWindows->setValue(windows);
}

void EvaluationPanel::setSkips(const QString &attn, const QString &mlp, const QString &block)
{
    m_skipAttn->setText(attn);
    m_skipMlp->setText(mlp);
    m_skipBlock->setText(block);
}

QString EvaluationPanel::resultText() const
{
    return m_result->toPlainText();
}

void EvaluationPanel::run()
{
    EvaluationRequest req;
    req.modelPath = m_modelPath.toStdString();
    req.textPath = m_text->text().toStdString();
    req.protocol = m_protocol->currentText().toStdString();
    req.maxWindows = m_maxWindows->value();
    req.skipAttn = parseList(m_skipAttn->text());
    req.skipMlp = parseList(m_skipMlp->text());
    req.skipBlock = parseList(m_skipBlock->text());
    m_result->setPlainText(tr("Evaluating\u2026"));
    const QString title = tr("Perplexity of %1").arg(QFileInfo(m_modelPath).fileName());
    m_runner->run<std::shared_ptr<const EvaluationReport>>(
        QStringLiteral("evaluation"), title,
        [req](JobContext &job) { return std::make_shared<const EvaluationReport>(runEvaluation(req, job)); }, this,
        [this](std::shared_ptr<const EvaluationReport> r) {
            m_result->setPlainText(QString::fromStdString(r->text()));
            Q_EMIT evaluated(r->perplexity.perplexity, QString::fromStdString(r->perplexity.protocol.oneLine()));
        },
        [this](const QString &message) {
            m_result->setPlainText(message);
            Q_EMIT failed(message);
        },
        Lane::Engine);
}

} // namespace blockscope::views
