"""Built-in data: the official 五个好 and 五带头 frameworks and the three campaign years.

The wording is the official text of the district's implementation plan (2010-06-10); one item per indicator.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from ..extensions import db
from ..models import PHASE_ORDER, CampaignYear, Criterion, Framework, Item, Phase, Subject

FRAMEWORKS = [
    {
        "code": "five_goods",
        "name": "五个好",
        "name_en": "Five Goods (advanced Party organisation)",
        "subject": Subject.BRANCH,
        "description": ("先进基层党组织的基本要求是,学习型党组织建设成效明显,"
                        "出色完成党章规定的基本任务,努力做到“五个好”。"),
        "criteria": [
            ("leadership", "领导班子好", "Good leadership team",
             "领导班子能深入学习实践科学发展观,认真贯彻党的路线方针政策,坚持正确的办学方向,团结协作,求真务实,勤政廉洁,有较强的凝聚力和战斗力。",
             ["深入学习实践科学发展观", "认真贯彻党的路线方针政策", "坚持正确的办学方向",
              "团结协作,求真务实", "勤政廉洁", "有较强的凝聚力和战斗力"]),
            ("membership", "党员队伍好", "Good body of members",
             "党员素质优良,有较强的党员意识,师德高尚,业务扎实,能够在教育工作第一线发挥先锋模范作用。",
             ["党员素质优良", "有较强的党员意识", "师德高尚,业务扎实",
              "能够在教育工作第一线发挥先锋模范作用"]),
            ("mechanism", "工作机制好", "Good working mechanisms",
             "能针对教育特点形成有效的工作机制,规章制度完善,管理措施到位,工作运行顺畅有序。",
             ["能针对教育特点形成有效的工作机制", "规章制度完善", "管理措施到位", "工作运行顺畅有序"]),
            ("performance", "工作业绩好", "Good performance",
             "本单位各项工作成绩显著,特别是在深入推进教育现代化和学校发展的过程中,围绕中心、服务大局事迹突出,成效明显。",
             ["本单位各项工作成绩显著",
              "在深入推进教育现代化和学校发展的过程中,围绕中心、服务大局事迹突出",
              "成效明显"]),
            ("reputation", "师生反映好", "Good standing with teachers and students",
             "基层党组织在师生中有较高威信,党员在群众中有良好形象,党群干群关系密切。",
             ["基层党组织在师生中有较高威信", "党员在群众中有良好形象", "党群干群关系密切"]),
        ],
    },
    {
        "code": "five_leads",
        "name": "五带头",
        "name_en": "Five Leads (outstanding Party member)",
        "subject": Subject.MEMBER,
        "description": "优秀共产党员的基本要求是,模范履行党章规定的义务,努力做到“五带头”。",
        "criteria": [
            ("learning", "带头学习提高", "Lead in learning",
             "认真学习实践科学发展观,自觉坚定理想信念。认真学习科学文化知识,不断提升专业素养,成为教育教学的岗位能手。",
             ["认真学习实践科学发展观,自觉坚定理想信念", "认真学习科学文化知识,不断提升专业素养",
              "成为教育教学的岗位能手"]),
            ("achievement", "带头争创佳绩", "Lead in achievement",
             "具有强烈的事业心和责任感,主动探索、开拓创新、无私奉献、充满激情,在教育岗位上高效工作,做出显著成绩。",
             ["具有强烈的事业心和责任感", "主动探索、开拓创新、无私奉献、充满激情",
              "在教育岗位上高效工作,做出显著成绩"]),
            ("service", "带头服务师生", "Lead in serving teachers and students",
             "积极参与教育实践研究,在团队中发挥传、帮、带作用。有较强的服务意识,热心帮助群众、学生解决实际困难,主动参与社区各项志愿者服务活动。",
             ["积极参与教育实践研究,在团队中发挥传、帮、带作用",
              "有较强的服务意识,热心帮助群众、学生解决实际困难",
              "主动参与社区各项志愿者服务活动"]),
            ("discipline", "带头遵纪守法", "Lead in discipline and law",
             "自觉遵守党的纪律,模范遵守国家法律和教育法规,严格遵循教育规律开展教育教学工作。",
             ["自觉遵守党的纪律", "模范遵守国家法律和教育法规", "严格遵循教育规律开展教育教学工作"]),
            ("integrity", "带头弘扬正气", "Lead in upholding integrity",
             "为人师表,言行自律,模范带头,发扬社会主义新风尚,敢于同不良风气、违纪违法行为作斗争。",
             ["为人师表,言行自律,模范带头", "发扬社会主义新风尚", "敢于同不良风气、违纪违法行为作斗争"]),
        ],
    },
]

# The three years of the plan, each with its theme and one theme item for the branch checklist.
YEARS = [
    (2010, "世博先锋行动",
     "组织系统内广大党员以高度的主人翁精神投入到岗位行动、家园行动、志愿行动中,结合实际,落实责任,突出实效。",
     ("performance", "组织党员投入世博岗位行动、家园行动、志愿行动,落实责任,突出实效")),
    (2011, "迎接中国共产党成立90周年",
     "坚持以目标管理为抓手,以改革创新为动力,以制度建设为保障,围绕教育中心工作,逐步推进项目管理目标。",
     ("mechanism", "以目标管理为抓手,逐步推进项目管理目标")),
    (2012, "向十八大献礼",
     "深入推进创先争优活动,总结有效做法,形成具有教育特色的党建工作新经验,建立党建工作长效管理机制。",
     ("mechanism", "总结有效做法,建立党建工作长效管理机制")),
]


def default_phases(year: int, start: date | None = None) -> list[tuple[date, date]]:
    """Five phases spread over the campaign year (June to December, as the plan started mid-year); from `start`
    instead when given, each phase as long as in that plan (so that a year made in December begins with its
    first phase, not in its last)."""
    bounds = [(date(year, 6, 10), date(year, 7, 15)), (date(year, 7, 16), date(year, 9, 15)),
              (date(year, 9, 16), date(year, 10, 31)), (date(year, 11, 1), date(year, 11, 30)),
              (date(year, 12, 1), date(year, 12, 31))]
    if start is None:
        return bounds
    from datetime import timedelta

    moved, day = [], start
    for first, last in bounds:
        moved.append((day, day + (last - first)))
        day = day + (last - first) + timedelta(days=1)
    return moved


def ensure_builtin() -> None:
    """Create whatever built-in data is missing; never touches what exists. Commits."""
    criteria_by_code: dict[str, Criterion] = {}
    for spec in FRAMEWORKS:
        framework = db.session.scalar(select(Framework).where(Framework.code == spec["code"]))
        if framework is None:
            framework = Framework(code=spec["code"], name=spec["name"], name_en=spec["name_en"],
                                  subject=spec["subject"], description=spec["description"])
            db.session.add(framework)
            db.session.flush()
            for position, (code, title, title_en, text, items) in enumerate(spec["criteria"], start=1):
                criterion = Criterion(framework_id=framework.id, code=code, position=position, title=title,
                                      title_en=title_en, official_text=text)
                db.session.add(criterion)
                db.session.flush()
                for item_pos, item_text in enumerate(items, start=1):
                    db.session.add(Item(criterion_id=criterion.id, position=item_pos, text=item_text))
        db.session.flush()
    for criterion in db.session.scalars(select(Criterion)):
        criteria_by_code[criterion.code] = criterion

    has_current = db.session.scalar(select(CampaignYear.id).where(CampaignYear.is_current.is_(True)))
    for year_no, theme, description, (criterion_code, theme_item) in YEARS:
        year = db.session.scalar(select(CampaignYear).where(CampaignYear.year == year_no))
        if year is not None:
            continue
        year = CampaignYear(year=year_no, theme=theme, description=description,
                            is_current=(year_no == YEARS[-1][0] and not has_current))
        db.session.add(year)
        db.session.flush()
        for position, (kind, (start, end)) in enumerate(zip(PHASE_ORDER, default_phases(year_no),
                                                            strict=True), start=1):
            db.session.add(Phase(year_id=year.id, kind=kind, position=position, starts_on=start, ends_on=end))
        criterion = criteria_by_code[criterion_code]
        db.session.add(Item(criterion_id=criterion.id, year_id=year.id, position=100, text=theme_item))
    db.session.commit()
