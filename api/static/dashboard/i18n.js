/* Dashboard texts in Chinese (default) and English. */
window.SKILLSIGNAL_I18N = {
  zh: {
    title: "数字人才需求看板", download: "下载CSV", start: "开始日期", end: "结束日期", occupation: "职业",
    direction: "方向", level: "等级", region: "地区", province: "省份", all: "全部",
    east: "东部", central: "中部", west: "西部", northeast: "东北", "初级": "初级", "中级": "中级", "高级": "高级",
    unique_postings: "去重岗位数", total_postings: "岗位总数", posting_intensity: "发布强度",
    median_salary: "月薪中位数 (元)", chart_occupations: "各职业需求趋势", chart_levels: "等级结构",
    chart_regions: "地区分布", chart_skills: "热门技能及增长", chart_emerging: "新兴技能",
    chart_compare: "技能趋势对比", skill_placeholder: "输入技能（中文、英文或别名），如 PyTorch、K8s",
    footer: "数据：SkillSignal 从招聘信息中提取；职业与等级依据国家职业技术技能标准。",
    loading: "加载中…", empty: "暂无数据：请放宽筛选条件", error: "加载失败：", postings: "岗位数",
    growth: "增长", share_change: "占比变化 (百分点)", switch_to: "English", other: "其他", no_match: "没有匹配的技能", compare_hint: "在上方输入技能并选择，对比其需求趋势",
  },
  en: {
    title: "Digital talent demand", download: "Download CSV", start: "From", end: "To", occupation: "Occupation",
    direction: "Direction", level: "Level", region: "Region", province: "Province", all: "All",
    east: "East", central: "Central", west: "West", northeast: "Northeast", "初级": "Junior", "中级": "Intermediate", "高级": "Senior",
    unique_postings: "Unique postings", total_postings: "Total postings", posting_intensity: "Posting intensity",
    median_salary: "Median monthly salary (CNY)", chart_occupations: "Demand by occupation over time",
    chart_levels: "Level mix", chart_regions: "By province", chart_skills: "Top skills and growth",
    chart_emerging: "Emerging skills", chart_compare: "Compare skills over time",
    skill_placeholder: "Type a skill (Chinese, English or alias), e.g. PyTorch, K8s",
    footer: "Data: extracted by SkillSignal from job postings; occupations and levels per the national occupational standards.",
    loading: "Loading…", empty: "No data: widen the filters", error: "Failed to load: ", postings: "Postings",
    growth: "Growth", share_change: "Share change (pp)", switch_to: "中文", other: "Other", no_match: "No matching skill", compare_hint: "Type a skill above and pick it to compare demand over time",
  },
};
