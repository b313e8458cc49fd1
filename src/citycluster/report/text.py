"""Every sentence and label of the report, in each language, and how a sentence gets its numbers.

The report's prose is data: a key per sentence, one entry per language, with named slots that
the 06_report notebook fills from computed results. (Moving these into gettext catalogs is the
language issue's work; until then this module is the one place language lives in the report.)
Over 300 lines because it is a catalog, not logic: two languages of every sentence and label.
"""

from __future__ import annotations

import re
from typing import Any

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "City clusters in figures: what an article claims, and what the data say",
        "lang_name": "English", "index_link": "All outputs", "toc": "Contents",
        "findings_title": "What holds, and what does not",
        "findings_holds": "The headline figure holds up.",
        "findings_fails": "The headline figure does not fully hold up.",
        "findings_open": "The headline figure cannot yet be confirmed or refuted.",
        "findings_headline": "{overall} The article gives the five national city clusters "
                             "{pop} of China's population and {gdp} of its GDP. Summed from "
                             "their member cities (2023), they hold between {plow} and {phigh} "
                             "of the population ({pop_verdict}) and between {glow} and {ghigh} "
                             "of GDP ({gdp_verdict}).",
        "findings_model": "Across {n} cities, GDP share rises {slope} times as fast as population "
                          "share (95% interval {low} to {high}): {reading}.",
        "findings_premium": "cities with a larger share of people hold an even larger share of "
                            "GDP",
        "findings_no_premium": "the data cannot tell this apart from proportionality",
        "findings_limits": "What the data cannot say: {unverifiable} of the {n} claims have no "
                           "independent figure, {weak} verdicts rest only on aggregator copies, "
                           "and the city models describe the {cities} cities whose figures were "
                           "found, not all of China's cities.",
        "findings_inconsistent": "{n} claims do not match their references:",
        "claims_title": "What the article claims",
        "claims_intro": "The article cites {n_claims} figures in {n_paragraphs} of its "
                        "paragraphs, about {n_entities} places, in {n_units} units of measure. "
                        "Each is kept as printed, with the bound its wording implies.",
        "claims_share": "Its headline figure: the five national city clusters hold about "
                        "{pop} of China's population and produce {gdp} of its GDP (2023).",
        "data_title": "Data and sources",
        "data_intro": "{n_ref} reference figures from {n_files} tables test the claims. By the "
                      "kind of source each was seen in: {mix}.",
        "data_weak": "{n_weak} of the {n_verdicts} verdicts rest only on aggregator copies or "
                     "recalled figures; the fact-check table marks them, and they should be "
                     "read as provisional until an official copy is found.",
        "mix_item": "{kind} {n}", "mix_sep": "; ",
        "validation_title": "Validation",
        "validation_intro": "{n_rules} rules checked the tables before publication: "
                            "{n_pass} passed, {n_warn} warning(s), {n_crit} critical failure(s).",
        "models_title": "Is there an agglomeration premium?",
        "models_share": "Across the {n} places with both shares (the article's pairs and "
                        "reference pairs together, so not independent), GDP share rises by "
                        "{slope} points for each point of population share (95% interval {low} "
                        "to {high}); a joint test of proportional shares gives p = {p}.",
        "models_provinces": "Within China, across the {n} provinces, the slope is {slope} "
                            "({low} to {high}; p = {p} for proportional shares): {verdict}.",
        "prop_yes": "the data cannot tell GDP shares apart from population shares",
        "prop_no": "GDP shares are not proportional to population shares",
        "models_cities": "Across {n} Chinese cities with 2023 GDP and population, the GDP "
                         "share rises by {slope} points for each point of population share (95% "
                         "interval {low} to {high}); being a member of a national cluster adds "
                         "{member} of national GDP at a given population share ({mlow} to "
                         "{mhigh}). The cities are those whose figures could be found, not a "
                         "random sample, and most figures are copies on aggregator sites.",
        "scaling_cities": "With cluster fixed effects, GDP scales with population across the "
                          "same {n} cities with exponent β = {beta} (95% interval {low} to "
                          "{high}).",
        "scaling_published_cities": "Bettencourt et al. report β = {pub} ({plow} to {phigh}) "
                                    "for Chinese cities in {pyear} ({kind}); both are city "
                                    "units, but their city boundaries and year differ.",
        "linkage_cities": "A proxy for linkage, not the article's measure: across {n} member "
                          "cities, log GDP per head relative to the cluster's core changes by "
                          "{slope} per unit of log distance to the core (95% interval {low} to "
                          "{high}), with cluster fixed effects. The article's three linkage "
                          "figures stay descriptive.",
        "linkage_capital": "The same proxy beyond the five clusters: across {n} prefecture-level "
                           "cities in {provinces} provinces, log GDP per head relative to the "
                           "provincial capital changes by {slope} per unit of log distance to "
                           "the capital (95% interval {low} to {high}), with province fixed "
                           "effects. Distance is a straight line, not travel time.",
        "headline_cities": "Summed from the {members} member cities their plans name (partial "
                           "members counted whole, Hong Kong and Macao outside China's national "
                           "accounts), the five clusters hold between {plow} and {phigh} of "
                           "China's 2023 population and between {glow} and {ghigh} of its GDP "
                           "(first releases). The bounds are wide because only {known_pop} "
                           "members' populations and {known_gdp} members' GDP were found.",
        "scaling_intro": "GDP scales with population across the provinces with exponent "
                         "β = {beta} (95% interval {low} to {high}; 1 would be proportional).",
        "scaling_published": "Bettencourt et al. report β = {pub} ({plow} to {phigh}) for "
                             "Chinese cities in {pyear} ({confidence}); cities are not "
                             "provinces, so this is a comparison, not a test.",
        "linkage_none": "The linkage model cannot be fitted: {n} place(s) have both an "
                        "industry-linkage figure and a premium, and the article's three "
                        "linkage figures measure different things.",
        "trend": "{entity}, {metric} {y0}–{y1}: {rate} a year, compounded{bound}.",
        "trend_lower": " (at least: the first figure is printed as an upper limit)",
        "trend_upper": " (at most: the first figure is printed as a lower limit)",
        "models_table": "Key estimate of each model",
        "cases_title": "The cases: London and four specialised Chinese cities",
        "cases_intro": "The article's two London figures are net changes over about three "
                       "decades; census counts for inner and outer London (1951 and 1981) give "
                       "{inner} and {outer}.",
        "figure_share": "Each point is a place; above the dashed line, its share of GDP is "
                        "larger than its share of population.",
        "figure_premium": "GDP share divided by population share, by place and source.",
        "figure_scaling": "Provinces on logarithmic axes with the fitted power law.",
        "figure_london": "Population change around London, article and census.",
        "figure_growth": "The growth cases by year; each panel has its own scale. A reference "
                         "for a broader industry than the claim's is left out (see the "
                         "fact-check).",
        "factcheck_title": "Fact-check",
        "fc_intro": "Each of the {n_claims} claims was compared with the independent figures: "
                    "{consistent} consistent, {inconsistent} inconsistent, {unverifiable} "
                    "unverifiable. {n_cross} more checks compare claims with each other "
                    "(implied shares, member counts).",
        "fc_rules": "An exact figure may differ from its reference by {rounding} (references are "
                    "rounded too), an approximate one by {approx} more; a reference more than "
                    "{gap} years from the claim cannot confirm it.",
        "fc_inconsistent": "The inconsistent ones:",
        "fc_filter": "Filter", "fc_verdict": "Verdict", "fc_all": "all",
        "fc_table": "Every check (click a column to sort)",
        "figure_factcheck": "Verdicts, and the ratio of each claim to its reference.",
        "table_check": "Check", "table_claimed": "Claimed", "table_reference": "Reference",
        "table_verdict": "Verdict", "table_reason": "Reason", "table_ratio": "Claim ÷ ref.",
        "table_basis": "Sources behind it", "weak_basis": "aggregator or recalled only",
        "footer_vintages": "Vintages of the reference figures",
        "footer_vintage_rule": ". 2023 shares divide first releases by the first-release national "
                               "total; changes over time subtract like from like (census from "
                               "census).",
        "consistent": "consistent", "inconsistent": "inconsistent",
        "unverifiable": "unverifiable", "direct": "direct", "implied_share": "implied share",
        "member_count": "member count",
        "caveats_title": "Caveats",
        "caveat_boundary": "Cluster shares computed from whole provinces overstate clusters "
                           "that the planning documents define by cities.",
        "caveat_small": "{n_small} of {n_models} fitted models rest on fewer than 10 points; "
                        "read them as descriptions, not evidence.",
        "caveat_recalled": "{n} reference figures are recalled rather than found in a source; "
                           "their source kind says so wherever they are used.",
        "warn_small": "n = {n} < 10: indicative only",
        "warn_null": "95% interval includes {null}",
        "caveat_trends": "Growth rates from two figures have no sampling error to estimate; "
                         "their ranges come from the article's wording only.",
        "footer_title": "Reproducibility",
        "footer_commit": "Commit", "footer_lock": "Lock file (SHA-256)",
        "footer_lang": "Language of this report",
        "footer_inputs": "Input files (SHA-256)", "footer_params": "Parameters",
        "footer_timings": "Step timings (s)", "footer_built": "Built",
        "table_term": "Model / term", "table_estimate": "Estimate", "table_ci": "95% interval",
        "table_boot": "Bootstrap", "table_r2": "R²",
        "table_n": "n", "table_warning": "Reading",
        "table_file": "Table", "table_conf": "Source kind", "table_rows": "Rows",
        "table_column": "Column", "table_rule": "Rule (warning)", "table_examples": "Examples",
        "table_id": "ID", "table_para": "Paragraph", "table_entity": "Place",
        "table_metric": "Measure", "table_printed": "As printed",
        "table_value": "Normalised value", "table_qualifier": "Wording", "table_year": "Year",
    },
    "zh": {
        "title": "数字中的城市群:文章的说法与数据的检验",
        "lang_name": "中文", "index_link": "全部输出", "toc": "目录",
        "findings_title": "哪些站得住，哪些站不住",
        "findings_holds": "文章的核心数字站得住。",
        "findings_fails": "文章的核心数字并不完全站得住。",
        "findings_open": "文章的核心数字目前既无法证实，也无法否定。",
        "findings_headline": "{overall}文章称五大国家级城市群占全国人口的{pop}、"
                             "GDP的{gdp}。按规划所列成员城市加总（2023年），"
                             "五大城市群占全国人口的{plow}至{phigh}（{pop_verdict}），"
                             "占GDP的{glow}至{ghigh}（{gdp_verdict}）。",
        "findings_model": "在{n}个城市中，GDP比重的增幅是人口比重增幅的{slope}倍"
                          "（95%区间为{low}至{high}）：{reading}。",
        "findings_premium": "人口比重越大的城市，GDP比重超出得越多",
        "findings_no_premium": "数据无法将其与同比例增长区分开来",
        "findings_limits": "数据不能说明的：{n}项说法中有{unverifiable}项没有独立数字可供核对，"
                           "{weak}项结论仅以汇编网站的转载为依据；城市模型描述的是已找到数据的"
                           "{cities}个城市，而非全国所有城市。",
        "findings_inconsistent": "与参考数据不符的说法共{n}项：",
        "claims_title": "文章引用了哪些数字",
        "claims_intro": "文章在{n_paragraphs}个段落中引用了{n_claims}个数字,涉及{n_entities}个"
                        "地区或对象,使用{n_units}种计量单位。每个数字均按原文记录,并注明措辞"
                        "所隐含的上下限。",
        "claims_share": "其核心数字:五大国家级城市群约占全国人口的{pop},创造了{gdp}的GDP"
                        "(2023年)。",
        "data_title": "数据与来源",
        "data_intro": "用于检验的参考数据共{n_ref}条,来自{n_files}张表。按所见来源的类型分:{mix}。",
        "data_weak": "在{n_verdicts}项结论中,有{n_weak}项仅以汇编网站转载或凭记忆录入的数字为依据;"
                     "核查表中已逐项标出,在找到官方出处之前应视为暂定。",
        "mix_item": "{kind}{n}条", "mix_sep": "；",
        "validation_title": "数据校验",
        "validation_intro": "发布前共以{n_rules}条规则校验数据:{n_pass}条通过,{n_warn}条警告,"
                            "{n_crit}条严重错误。",
        "models_title": "是否存在集聚溢价?",
        "models_share": "在同时具有两种比重的{n}个地区中(文章数字与参考数据合并,彼此并不独立),"
                        "人口比重每增加1个百分点,GDP比重增加{slope}个百分点(95%区间 {low} 至 "
                        "{high});比重成比例的联合检验 p = {p}。",
        "models_provinces": "在中国{n}个省级行政区中,斜率为{slope}({low} 至 {high};"
                            "比例检验 p = {p}):{verdict}。",
        "prop_yes": "数据无法区分GDP比重与人口比重",
        "prop_no": "GDP比重与人口比重并不成比例",
        "scaling_intro": "各省GDP对人口的标度指数 β = {beta}(95%区间 {low} 至 {high};"
                         "等于1即为同比例)。",
        "scaling_published": "Bettencourt等人报告{pyear}年中国城市的 β = {pub}({plow} 至 "
                             "{phigh};{confidence});城市与省份不同,此处仅作对照,不作检验。",
        "linkage_none": "产业关联模型无法估计:同时具有产业关联数字与溢价的地区只有{n}个,"
                        "且文章的三个关联数字衡量的是不同的东西。",
        "trend": "{entity},{metric},{y0}–{y1}年:年均复合增长{rate}{bound}。",
        "trend_lower": "(至少如此:起始数字原文为上限)",
        "models_cities": "在已取得2023年GDP与人口数据的{n}个中国城市中,人口比重每增加一个百分点,"
                         "GDP比重增加{slope}个百分点(95%区间{low}至{high});在人口比重相同的条件下,"
                         "属于国家级城市群的城市GDP比重高出{member}({mlow}至{mhigh})。"
                         "这些城市只是能找到数据的城市,并非随机样本,且多数数字来自汇编网站的转载。",
        "scaling_cities": "控制城市群固定效应后,同样{n}个城市的GDP随人口的标度指数β = {beta}"
                          "(95%区间{low}至{high})。",
        "scaling_published_cities": "Bettencourt等人对{pyear}年中国城市报告的β = {pub}"
                                    "({plow}至{phigh};{kind});两者都以城市为单位,"
                                    "但城市口径与年份不同。",
        "linkage_cities": "以下是联系程度的替代指标,并非文章所用的口径:在{n}个成员城市中,"
                          "相对于核心城市的人均GDP(取对数)随到核心城市距离(取对数)每增加一个单位"
                          "变化{slope}(95%区间{low}至{high}),并控制城市群固定效应。"
                          "文章给出的三个联系程度数字仅作描述。",
        "linkage_capital": "把同一替代指标推广到五大城市群之外:在{provinces}个省的{n}个地级市中,"
                           "相对于省会的人均GDP(取对数)随到省会距离(取对数)每增加一个单位变化"
                           "{slope}(95%区间{low}至{high}),并控制省份固定效应。距离为直线距离,"
                           "不是通行时间。",
        "headline_cities": "按规划所列的{members}个成员城市加总(部分纳入的城市按全市计,"
                           "港澳不在全国核算范围内),五大城市群占2023年全国人口的{plow}至{phigh},"
                           "占GDP的{glow}至{ghigh}(初步核算数)。区间较宽,是因为只找到了"
                           "{known_pop}个成员城市的人口和{known_gdp}个成员城市的GDP。",
        "trend_upper": "(至多如此:起始数字原文为下限)",
        "models_table": "各模型的关键估计",
        "cases_title": "案例:伦敦与四个专业化的中国城市",
        "cases_intro": "文章关于伦敦的两个数字是约三十年间的净变化;人口普查数据(1951年与1981年)"
                       "显示内伦敦变化{inner},外伦敦变化{outer}。",
        "figure_share": "每个点代表一个地区;位于虚线上方的点,其GDP比重高于人口比重。",
        "figure_premium": "各地区GDP比重除以人口比重,按数据来源区分。",
        "figure_scaling": "对数坐标下的各省数据及拟合的幂律曲线。",
        "figure_london": "伦敦周边的人口变化:文章数字与人口普查数字。",
        "figure_growth": "各增长案例的逐年数字;每个分图使用各自的刻度。口径宽于文章所指产业的"
                         "参考数字不画入图中(见事实核查)。",
        "factcheck_title": "事实核查",
        "fc_intro": "文章的{n_claims}项说法均与独立数字作了对照:{consistent}项相符,"
                    "{inconsistent}项不符,{unverifiable}项无法核实。另有{n_cross}项核查比较了说法之间的关系(推算的比重、"
                    "成员城市数)。",
        "fc_rules": "准确数字与参考值可相差{rounding}(参考值本身也经过取整),约数可再多相差{approx};"
                    "与文章年份相差超过{gap}年的参考值不能用来证实。",
        "fc_inconsistent": "不符的说法:",
        "fc_filter": "筛选", "fc_verdict": "结论", "fc_all": "全部",
        "fc_table": "全部核查项(点击列名排序)",
        "figure_factcheck": "核查结论,以及各项说法与参考值之比。",
        "table_check": "核查", "table_claimed": "文章说法", "table_reference": "参考数据",
        "table_verdict": "结论", "table_reason": "理由", "table_ratio": "说法÷参考",
        "table_basis": "所依据的来源", "weak_basis": "仅有汇编网站或记忆数字",
        "footer_vintages": "参考数据的版本",
        "footer_vintage_rule": "。2023年的比重以初步核算数除以同为初步核算的全国总量;"
                               "跨年变化只在同类数字之间相减(普查数减普查数)。",
        "consistent": "相符", "inconsistent": "不符", "unverifiable": "无法核实",
        "direct": "直接", "implied_share": "推算比重", "member_count": "成员数",
        "caveats_title": "局限",
        "caveat_boundary": "以整省数据计算的城市群比重,会高估按城市界定的城市群。",
        "caveat_small": "{n_models}个已拟合模型中有{n_small}个样本少于10个点,只能作为描述,"
                        "不能作为证据。",
        "caveat_recalled": "有{n}条参考数据凭记忆录入、未找到出处;"
                           "凡使用之处,来源类型一列均有注明。",
        "warn_small": "样本量 {n} < 10:仅供参考",
        "warn_null": "95%区间包含 {null}",
        "caveat_trends": "由两个数字计算的增长率没有抽样误差可言;其范围仅来自文章的措辞。",
        "footer_title": "可复现信息",
        "footer_commit": "代码版本", "footer_lock": "依赖锁文件(SHA-256)",
        "footer_lang": "本报告语言",
        "footer_inputs": "输入文件(SHA-256)", "footer_params": "参数",
        "footer_timings": "各步骤用时(秒)", "footer_built": "生成时间",
        "table_term": "模型 / 项", "table_estimate": "估计值", "table_ci": "95%区间",
        "table_boot": "自助法区间", "table_r2": "R²",
        "table_n": "样本量", "table_warning": "解读提示",
        "table_file": "数据表", "table_conf": "来源类型", "table_rows": "行数",
        "table_column": "列", "table_rule": "规则(警告)", "table_examples": "示例",
        "table_id": "编号", "table_para": "段落", "table_entity": "地区",
        "table_metric": "指标", "table_printed": "原文", "table_value": "标准化数值",
        "table_qualifier": "措辞", "table_year": "年份",
    },
}
LABELS: dict[str, dict[str, str]] = {
    "en": {"statistics_office": "statistics office", "government": "government",
           "news": "news agency or newspaper", "academic": "academic publication",
           "encyclopedia": "encyclopedia", "aggregator": "aggregator or blog",
           "recalled": "recalled, not checked", "supporting_rate": "supporting rate",
           "area": "area", "area_share": "share of area", "chip_capacity": "chip capacity",
           "count_cities": "number of cities", "count_companies": "number of companies",
           "count_computers": "number of computers", "count_hq": "number of headquarters",
           "count_metro_areas": "number of metropolitan areas",
           "count_new_towns": "number of new towns", "count_satellites": "number of satellites",
           "count_states": "number of states", "distance": "distance",
           "event_year": "year of the event", "floor_area_ratio": "floor-area ratio",
           "gdp_share": "share of GDP", "growth_rate": "growth rate",
           "industry_linkage": "industrial linkage",
           "internal_trade_share": "share of internal trade", "investment": "investment",
           "jobs_share_near_rail": "share of jobs near the railway", "length": "length",
           "pop_share": "share of population",
           "pop_share_near_rail": "share of people near the railway", "population": "population",
           "population_change": "population change", "purity": "purity",
           "sector_gdp_share": "sector's share of GDP", "target_year": "target year",
           "travel_time": "travel time", "visitors": "visitors", "width": "width",
           "eq": "exactly", "approx": "about", "gt": "more than", "ge": "at least",
           "lt": "less than", "le": "at most", "Intercept": "intercept",
           "np.log(population)": "log population", "np.log(gdp)": "log GDP",
           "np.log(core_distance_km)": "log distance to the core",
           "np.log(capital_distance_km)": "log distance to the capital",
           "member": "cluster member", "linkage": "linkage figure",
           "share_cities": "GDP share on population share, cities",
           "scaling_cities": "GDP on population (log-log), cities",
           "linkage_distance_cities": "GDP per head against distance to the cluster core, cities",
           "linkage_capital_cities": "GDP per head against distance to the capital, cities",
           "share_entities": "GDP share on population share, all places",
           "share_entities_reference": "GDP share on population share, reference figures only",
           "share_provinces": "GDP share on population share, provinces",
           "scaling_provinces": "GDP on population (log-log), provinces",
           "scaling_clusters_cn": "GDP on population (log-log), Chinese clusters",
           "linkage_premium": "premium against industrial linkage",
           "derived": "derived from other figures", "first_release": "first release",
           "revised": "revised", "yearbook": "yearbook", "census": "census count",
           "estimate": "estimate", "unlabelled": "not labelled",
           "output": "output value"},
    "zh": {"statistics_office": "统计部门", "government": "政府部门", "news": "通讯社或报纸",
           "academic": "学术出版物", "encyclopedia": "百科", "aggregator": "汇编网站或博客",
           "area": "面积", "area_share": "面积占比", "chip_capacity": "芯片产能",
           "count_cities": "城市数量",
           "count_companies": "企业数量", "count_computers": "计算机数量", "count_hq": "总部数量",
           "count_metro_areas": "都市圈数量", "count_new_towns": "新城数量",
           "count_satellites": "卫星数量",
           "count_states": "州的数量", "distance": "距离", "event_year": "事件年份",
           "floor_area_ratio": "容积率", "gdp_share": "GDP占比", "growth_rate": "增长率",
           "industry_linkage": "产业关联度", "internal_trade_share": "内部贸易占比",
           "investment": "投资额",
           "jobs_share_near_rail": "铁路沿线就业占比", "length": "长度", "pop_share": "人口占比",
           "pop_share_near_rail": "铁路沿线人口占比", "population": "人口",
           "population_change": "人口变化",
           "purity": "纯度", "sector_gdp_share": "行业占GDP比重", "target_year": "目标年份",
           "travel_time": "通行时间", "visitors": "游客人次", "width": "宽度", "eq": "等于",
           "approx": "约",
           "gt": "超过", "ge": "不少于", "lt": "不足", "le": "不超过", "Intercept": "截距",
           "np.log(population)": "人口（对数）", "np.log(gdp)": "GDP（对数）",
           "np.log(core_distance_km)": "到核心城市距离（对数）",
           "np.log(capital_distance_km)": "到省会距离（对数）",
           "member": "城市群成员", "linkage": "关联度数字",
           "share_cities": "GDP占比对人口占比（城市）",
           "scaling_cities": "GDP对人口（双对数，城市）",
           "linkage_distance_cities": "人均GDP与到城市群核心距离（城市）",
           "linkage_capital_cities": "人均GDP与到省会距离（城市）",
           "share_entities": "GDP占比对人口占比（全部地区）",
           "share_entities_reference": "GDP占比对人口占比（仅参考数据）",
           "share_provinces": "GDP占比对人口占比（省份）",
           "scaling_provinces": "GDP对人口（双对数，省份）",
           "scaling_clusters_cn": "GDP对人口（双对数，中国城市群）",
           "linkage_premium": "溢价与产业关联度",
           "recalled": "凭记忆,未核对", "derived": "由其他数字推算",
           "first_release": "初步核算数", "revised": "修订数", "yearbook": "年鉴数",
           "census": "普查数", "estimate": "估计数", "unlabelled": "未标注",
           "supporting_rate": "配套率", "output": "产值",
           "a row that is not recalled names where it was seen": "非凭记忆的数据注明出处链接"},
}
SECTIONS = ("findings", "claims", "data", "validation", "models", "cases", "factcheck",
            "caveats")


#: Punctuation each language sets in its own form beside its own script: Chinese prose takes
#: full-width （），；： next to Chinese characters, while numbers keep 1,234.5 and 95%.
TYPOGRAPHY: dict[str, dict[str, str]] = {
    "zh": {"(": "（", ")": "）", ",": "，", ";": "；", ":": "："},
}
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


def typeset(lang: str, sentence: str) -> str:
    """The sentence with the language's punctuation where it touches the language's script.

    Parentheses become full-width when what they enclose, or what touches them, is Chinese;
    then a comma, semicolon or colon does when a Chinese character or a full-width mark is
    next to it. So "(2023年)" becomes "（2023年）" while "1,234" and "(ONS, 1981)" in a Latin
    context stay as they are.
    """
    marks = TYPOGRAPHY.get(lang)
    if not marks:
        return sentence
    chars = list(sentence)
    opened: list[int] = []
    for i, c in enumerate(chars):  # parentheses first: one around Chinese text is Chinese
        if c == "(":
            opened.append(i)
        elif c == ")" and opened:
            start = opened.pop()
            span = "".join(chars[max(start - 1, 0):i + 2])
            if _CJK.search(span):
                chars[start], chars[i] = marks["("], marks[")"]
    for i, c in enumerate(chars):
        if c in marks and c not in "()":
            before = chars[i - 1] if i else ""
            after = chars[i + 1] if i + 1 < len(chars) else ""
            if _CJK.match(before) or _CJK.match(after):
                chars[i] = marks[c]
    return "".join(chars)


#: The fact-check column that holds its reason in each language (English is ``reason``).
REASON_COLUMN = {"zh": "reason_zh"}


def reason_column(lang: str) -> str:
    """The fact-check column with the reason in ``lang``."""
    return REASON_COLUMN.get(lang, "reason")


def text(lang: str, key: str, **values: Any) -> str:
    """A sentence of the report in ``lang`` with computed values filled in and set in the
    language's punctuation."""
    return typeset(lang, TEXT[lang][key].format(**values))


def label(code: str, lang: str) -> str:
    """A code from the data (a source kind, a metric) in words, else the code itself."""
    return LABELS[lang].get(code, code.replace("_", " "))


#: Chart titles, axes, tooltips and descriptions, per language.
CHART_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "pop_share": "Share of national population", "gdp_share": "Share of national GDP",
        "entity": "Place", "origin": "Figures from", "premium": "GDP share ÷ population share",
        "parity": "GDP share = population share", "fit": "fitted line", "band": "95% band",
        "share_title": "GDP share against population share",
        "share_desc": "Scatter of {n} places: population share across, GDP share up; a dashed "
                      "line marks equal shares and a shaded band the fitted line's 95% interval.",
        "premium_title": "How far GDP share exceeds population share",
        "premium_desc": "Bars for {n} places: GDP share divided by population share, from "
                        "{low} to {high}; the line at 1 marks GDP in proportion to population.",
        "scaling_title": "GDP against population across China's provinces (log scales)",
        "scaling_desc": "Scatter of {n} provinces on logarithmic axes, with the fitted power "
                        "law and its 95% band.",
        "population": "Resident population", "gdp_cny": "GDP", "province": "Province",
        "london_title": "London's population moved outwards, 1950s to 1981",
        "london_desc": "Bars of population change in {n} areas, the article's figures beside "
                       "census-based ones.",
        "change": "Population change", "area": "Area",
        "growth_title": "The article's growth cases, with reference figures where found",
        "growth_desc": "One panel per case ({cases}); points are figures by year, the "
                       "article's joined by a line.",
        "year": "Year", "value": "Value", "wording": "As printed", "case": "Case",
        "article": "article", "reference": "reference",
        "ref_metric": "Reference measures", "same_metric": "the same quantity",
        "fc_title": "Fact-check: each claim against its reference",
        "fc_desc": "{n} checks: {counts}. Dots show the ratio of claim to reference for the "
                   "{shown} checks that have one, on a logarithmic scale; 1 means equal.",
        "verdict": "Verdict", "checks": "Checks", "ratio": "Claim ÷ reference",
        "claim": "Claim", "reason": "Reason",
        "consistent": "consistent", "inconsistent": "inconsistent",
        "unverifiable": "unverifiable",
    },
    "zh": {
        "pop_share": "占全国人口比重", "gdp_share": "占全国GDP比重", "entity": "地区",
        "origin": "数据来自", "premium": "GDP比重 ÷ 人口比重", "parity": "GDP比重 = 人口比重",
        "fit": "拟合线", "band": "95%区间",
        "share_title": "GDP比重与人口比重",
        "share_desc": "{n}个地区的散点图:横轴为人口比重,纵轴为GDP比重;虚线表示两者相等,"
                      "阴影为拟合线的95%区间。",
        "premium_title": "GDP比重高出人口比重多少",
        "premium_desc": "{n}个地区的条形图:GDP比重除以人口比重,介于{low}与{high}之间;"
                        "1处的竖线表示GDP与人口同比例。",
        "scaling_title": "中国各省GDP与人口(对数坐标)",
        "scaling_desc": "{n}个省级行政区的对数坐标散点图,附拟合的幂律曲线及其95%区间。",
        "population": "常住人口", "gdp_cny": "GDP", "province": "省级行政区",
        "london_title": "伦敦人口向外迁移(1950年代至1981年)",
        "london_desc": "{n}个区域的人口变化条形图,文章数字与人口普查数字并列。",
        "change": "人口变化", "area": "区域",
        "growth_title": "文章中的增长案例,及找到的参考数字",
        "growth_desc": "每个案例一个分图({cases});点为各年份的数字,文章数字以线相连。",
        "year": "年份", "value": "数值", "wording": "原文表述", "case": "案例",
        "article": "文章", "reference": "参考数据",
        "ref_metric": "参考数据口径", "same_metric": "相同口径",
        "fc_title": "事实核查:各项说法与参考数据的对照",
        "fc_desc": "共{n}项核查:{counts}。点表示{shown}项有参考值的核查中文章数字与参考值之比"
                   "(对数刻度),1表示相等。",
        "verdict": "结论", "checks": "核查项数", "ratio": "文章数字 ÷ 参考值",
        "claim": "说法", "reason": "理由",
        "consistent": "相符", "inconsistent": "不符", "unverifiable": "无法核实",
    },
}


def _typeset_catalog(catalog: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """Every entry of a catalog set in its language's punctuation, once, so templates that
    print an entry directly get it right too."""
    return {lang: {k: typeset(lang, v) for k, v in entries.items()}
            for lang, entries in catalog.items()}


TEXT = _typeset_catalog(TEXT)
LABELS = _typeset_catalog(LABELS)
CHART_LABELS = _typeset_catalog(CHART_LABELS)

