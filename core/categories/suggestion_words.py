"""Keyword rules for category suggestions: English and Chinese terms per default category.

Written for Candor from the default categories' descriptions (core.categories.lookup,
docs/GLOSSARY.md), with the vocabulary of IT staff in Chinese and international companies:
what people write when a system fails, data is exposed, the office is unsafe, nobody explains
a decision, nobody owns a task, rules are broken, they have an idea, or they ask about parking.
core.categories.suggestions turns each category's terms into a pseudo-document that seeds its
word counts, so a model suggests categories before any case has been confirmed.

A term may be a phrase: it is tokenised like a report (jieba for Chinese, lower-cased stems for
English), so "无法登录" counts as 无法 and 登录, "access rights" as access and right. English
terms are separated by commas, Chinese terms by spaces. A term appears under one category only
(tests/core/categories/test_suggestions.py checks it); a word may still occur in terms of two
categories, and then weighs less. Categories an operator adds have no terms here: they are
seeded from the keywords the operator gave them (`candor category edit CODE --keywords`) or,
without any, from the names and descriptions the operator wrote, and learnt from confirmed
cases. An operator's keywords for a default category add to its terms here.
"""

from __future__ import annotations


def _english(terms: str) -> tuple[str, ...]:
    return tuple(t.strip() for t in terms.replace("\n", " ").split(",") if t.strip())


def _chinese(terms: str) -> tuple[str, ...]:
    return tuple(terms.split())


_IT_FAULT = (_english("""
outage, down, downtime, crash, crashed, crashing, keeps crashing, hang, hangs, freeze,
frozen, error, error message, system error, bug, glitch, fault, faulty, fails, failure,
broken, not working, stopped working, still broken, not fixed, slow, sluggish, lag, laggy,
latency, timeout, timed out, not loading, unresponsive, stops responding, won't open,
greyed out, button, reboot, restart, reinstall, blue screen, black screen, login, log in,
sign in, single sign-on, password reset, locked out, vpn, network, wifi, bandwidth,
packet loss, connection, disconnect, reconnect, drops, offline, server, database, query,
mail server, outlook, calendar, sync, data sync, printer, print queue, paper jam, scanner,
laptop, desktop, pc, computer, monitor, screen, flickering, keyboard, mouse,
docking station, adapter, hdmi, driver, firmware, device, hardware, software, application,
app, mobile app, android, tool, erp, crm, sap, intranet, website, blank page, browser,
chrome, shared drive, file server, disk, disk space, disk full, storage, memory,
out of memory, cpu, performance, backup job, batch job, nightly job, scheduled task,
script, build, pipeline, deployment, migration, upgrade, update, windows update, version,
incompatible, compatibility, licence, license, ticket, helpdesk, service desk, it support,
tech support, repair, replacement, video call, sound cuts out, projector, audio,
microphone, headset, phone system, certificate error, dns, integration, interface, import,
spreadsheet, excel, virtual machine, virtual desktop, container, monitoring, false alarm,
terminal, point of sale, cash register, barcode, label printer, battery, charger, upload,
attachment, rollback, compiler, miscalculates, calculation error, wrong figures,
messages lost, notifications, settings lost, configuration, workaround, rerun, retry
"""), _chinese("""
故障 宕机 挂了 崩溃 闪退 卡死 卡顿 卡住 死机 蓝屏 黑屏 白屏 报错 错误提示 系统错误 异常
失败 坏了 用不了 不能用 无法使用 打不开 进不去 登不上 无法登录 登录失败 加载不出来 一直转圈
没反应 无响应 点不动 按钮 灰色 重置密码 账号锁定 连不上 断网 掉线 断开 重连 网络 网速 带宽
丢包 无线网 服务器 数据库 邮箱 邮件服务器 同步 数据同步 打印机 打印 卡纸 扫描仪 扫码枪
电脑 笔记本 台式机 显示器 屏幕 闪屏 花屏 键盘 鼠标 扩展坞 转接头 驱动 固件 设备 硬件 软件
系统 应用 手机应用 安卓 小程序 工具 钉钉 企业微信 内网 门户 网页 页面 空白页 浏览器 共享盘
文件服务器 磁盘 硬盘空间 磁盘满 存储 内存 内存不足 内存溢出 性能 备份任务 批处理 跑批 定时任务
脚本 构建 流水线 部署 上线失败 迁移 升级 更新 系统更新 版本 不兼容 兼容 许可证 授权到期 工单
服务台 技术支持 报修 维修 更换 没修好 还是坏的 视频会议 投屏 投影仪 声音 麦克风 耳机 电话系统
证书错误 接口 对接 导入 报表 表格 虚拟机 云桌面 容器 监控 告警 误报 收银机 终端 条码 标签打印
电池 充电器 上传 附件 延迟 响应慢 加载 超时 重启 重装 编译 回滚 算错 计算错误 数据不对
消息丢失 设置丢失 配置 临时方案 重跑 重试
"""))

_SECURITY = (_english("""
vulnerability, security hole, exploit, injection, sql injection, xss, patch, unpatched,
security update, security fixes, leak, leaked, data leak, exposed, exposure, breach,
data breach, personal data, personal information, customer data, customer records,
id number, id card, bank details, credit card, salary data, payroll list, medical records,
health data, privacy, confidential, sensitive, password, default password,
factory default, weak password, shared password, sticky note, plain text, cleartext,
unencrypted, encryption, encrypt, disk encryption, keys, api key, secret, hard-coded,
token, credentials, access rights, permission, privilege, privileged, admin rights,
administrator, domain admin, shared account, same account, shared login, generic account,
former employee, leaver, offboarding, still has access, account not disabled, deactivate,
revoke, door badge, server room door, propped open, tailgating, visitor, security guard,
phishing, phishing email, fake email, pretending to be, impersonating, clicked a link,
spoofed, scam, social engineering, malware, virus, trojan, ransomware, antivirus,
firewall, open port, remote desktop, rdp, ssh, internet-facing, public bucket, bucket,
misconfigured, audit trail, no record, who accessed, downloaded data, copied data,
usb stick, usb drive, personal email, personal mailbox, personal wechat, personal device,
cloud drive, netdisk, translation site, online tool, stolen laptop, lost phone, hacker,
hacked, attack, intrusion, ddos, penetration test, security review, data protection, gdpr,
pipl, cybersecurity law, data residency, abroad, cross-border, third party access, shred,
disposal, wipe, wiped, old disks, personnel files, printout, left unattended,
anyone could read, readable by anyone, publicly accessible, camera feed, cctv, backdoor,
two-factor, mfa, second factor, http, https, guest network, internal network,
from outside, production data, real customer data, test data, masked, anonymised, router,
screen lock, security
"""), _chinese("""
漏洞 安全漏洞 注入 sql注入 补丁 未修复 安全更新 泄露 泄漏 外泄 数据泄露 暴露 个人信息 客户数据
客户信息 身份证号 身份证 银行卡号 信用卡 工资数据 工资表 体检报告 健康信息 隐私 机密 保密 敏感
密码 默认密码 出厂密码 弱口令 共享密码 便利贴 明文 未加密 加密 硬盘加密 密钥 api密钥 硬编码
令牌 凭证 访问权限 权限 越权 提权 管理员 管理员账号 域管理员 共用账号 公共账号 同一个账号
离职员工 离职人员 离职交接 仍有权限 没注销 注销 回收权限 门禁卡 门禁 机房门 尾随 访客 保安
钓鱼 钓鱼邮件 冒充 假冒 点开链接 诈骗 社会工程 恶意软件 病毒 木马 勒索 勒索病毒 杀毒软件
防火墙 端口 开放端口 远程桌面 公网 外网 存储桶 配置错误 审计日志 日志 没有记录 谁访问 导出
拷贝 u盘 移动硬盘 私人邮箱 个人邮箱 个人微信 私人设备 网盘 百度网盘 在线翻译 被盗 丢失手机
黑客 入侵 攻击 渗透测试 安全评估 数据保护 个人信息保护法 网络安全法 数据出境 境外 第三方
粉碎 销毁 数据擦除 旧硬盘 人事档案 打印件 无人看管 任何人都能 谁都能看 监控画面 摄像头 后门
二次验证 双因素 多因素认证 访客网络 内网隔离 生产数据 真实数据 测试数据 脱敏 路由器 锁屏 安全
"""))

_ENVIRONMENT = (_english("""
workload, overwork, overworked, overtime, long hours, late nights, until midnight,
weekends, weekend work, 996, no rest, no break, breaks, lunch break, exhausted,
exhaustion, tired, worn out, fatigue, burnout, burning out, breaking down, stress,
stressed, pressure, mental health, anxiety, sick, ill, illness, come in sick, doctor,
headache, back pain, neck pain, wrist pain, eye strain, coughing, injury, injured,
accident, hurt, slipped, fell, falling, tripped, trip hazard, hazard, hazardous, danger,
dangerous, unsafe, safety, health and safety, fire, fire exit, emergency exit,
escape route, fire escape, extinguisher, smoke detector, smoke alarm, sprinkler,
evacuation, blocked, obstructed, emergency lighting, first aid, first aid kit,
temperature, degrees, hot, heat, cold, freezing, heating, air conditioning, aircon,
ventilation, fresh air, stale air, air quality, dust, fumes, smell, odour, paint,
chemicals, mould, damp, leaking, dripping, wet floor, slippery, noise, noisy, loud, hum,
concentrate, renovation, building works, drilling, lighting, dim, dark, daylight,
windows, crowded, packed, cramped, overcrowded, no space, chair, ergonomic, workstation,
standing desk, open-plan, stairs, stairwell, handrail, railing, lift, elevator, ceiling,
loose, cables, extension lead, power strip, socket, electrical, wiring, overloaded,
shelves, heavy lifting, carry, boxes, forklift, protective equipment, gloves,
goggles, helmet, mask, hygiene, toilets, pests, mice, rats, cockroaches, drinking water,
smoking, pregnant, night shift, shift work, on call, woken up, understaffed,
short-staffed, not replaced, skip lunch, physical, sleep, working conditions,
hours a day
"""), _chinese("""
工作量 过劳 超负荷 加班 长时间 熬夜 通宵 周末 周末加班 没有休息 不能休息 休息时间 午休 疲惫
累 精疲力尽 身心俱疲 撑不住 崩溃边缘 压力 心理健康 焦虑 生病 病倒 带病上班 硬撑 头疼 头晕
腰疼 颈椎 手腕 眼睛 咳嗽 受伤 工伤 事故 摔倒 滑倒 绊倒 砸到 隐患 安全隐患 危险 不安全 安全出口
消防通道 消防 灭火器 烟感 喷淋 疏散 堵住 堵塞 应急灯 急救 急救箱 温度 太热 闷热 高温 太冷
暖气 空调 通风 新风 空气 空气质量 粉尘 灰尘 烟雾 异味 油漆味 化学品 发霉 长霉 潮湿 漏水 滴水
地面湿滑 噪音 吵 太吵 轰鸣 注意力 装修 施工 电钻 照明 灯光 太暗 阳光 窗户 拥挤 挤 工位太小
椅子 桌椅 人体工学 升降桌 开放式办公 楼梯 楼梯间 扶手 护栏 电梯 天花板 吊顶 松动 电线 插线板
插座 用电 线路 超负荷用电 货架 搬运 搬 重物 箱子 叉车 车间 焊接 防护用品 手套 护目镜 安全帽
口罩 卫生 厕所 老鼠 蟑螂 饮水机 抽烟 吸烟 怀孕 孕妇 夜班 倒班 值班 人手不足 缺人 没补人
不吃午饭 身体 睡眠 半夜 叫醒 工作环境 工作条件 工作时长
"""))

_COMMUNICATION = (_english("""
communication, communicate, communicated, informed, not informed, uninformed, nobody told,
no one told, never told, told, tell, telling, heard, heard nothing, learnt, learned,
found out, rumour, gossip, grapevine, announcement, announced, noticeboard, without notice,
short notice, last minute, without a word, surprise, memo, all-staff email, newsletter,
status update, briefing, meeting, minutes, meeting notes, agenda, stand-up,
town hall, all-hands, questions, answer, reply, respond, response, no response, ignored,
silence, feedback, explain, explanation, explained, reason, reasons, why, justification,
rationale, decision, decided, behind closed doors, transparency, transparent,
vague, unclear message, contradictory, conflicting instructions, mixed messages, opposite,
misunderstanding, misunderstood, translation, translated, language, english only,
chinese version, headquarters, head office, hq, leadership, management,
senior management, priorities, changed priorities, strategy, reorganisation,
restructuring, layoffs, outsourcing, relocation, survey results, not shared, pass on,
passed on, kept in the dark, out of the loop, kept to himself, chat group, wechat group,
align, alignment, talk, talked, discussion, consult, without consulting, not invited,
listen, voice, circulated, reach, anxious, uncertainty, promoted, passed over
"""), _chinese("""
沟通 交流 通知 没有通知 没通知 没人告诉 没人通知 告诉 告知 听说 才知道 才发现 得知 传言 谣言
小道消息 公告 公布 宣布 公告栏 临时通知 突然 最后一刻 邮件通知 全员邮件 周报 进度 简报 会议
开会 会议纪要 纪要 议程 一对一 面谈 站会 全员大会 提问 回答 回复 答复 不回 不理 沉默 反馈
解释 说明 原因 理由 说法 决定 决策 闭门 暗箱 透明 不透明 含糊 模糊不清 矛盾 相互矛盾 说法不一
方向相反 误解 误会 翻译 中文版 英文版 语言 总部 管理层 高层 优先级 战略 组织架构调整 重组
裁员 外包 搬迁 调查结果 满意度调查 不公开 传达 转达 下发 蒙在鼓里 信息不对称 群里 微信群 对齐
讨论 商量 征求意见 倾听 谈话 没叫 没邀请 人心惶惶 升职
"""))

_ROLES = (_english("""
responsible, responsibility, accountable, accountability, owner, ownership, owns,
nobody owns, no owner, orphaned, unowned, whose job, whose responsibility,
who is responsible, who should, who decides, who approves, in charge, role,
job description, job title, duties, duty, remit, scope, mandate, authority,
no authority, no say, power to decide, decision rights, final say, sign off, approve,
approval, approver, assigned, unassigned, not assigned, delegated, deputy, acting,
interim, stand-in, handover, hand over, successor, vacancy,
overlap, overlapping, duplicate, duplicated, duplication, duplicate effort, both teams,
two teams, two managers, each thinks, assume, assumed, falls between, gap, grey area,
boundary, bounce, bounced, passed around, back and forth, ping-pong, blame,
finger pointing, escalation path, raci, reporting line, report to, two bosses,
dotted line, coordinate, coordinator, lead role, mentor, point of contact,
contact person, nobody picks up, picks up, follow up, system owner, data owner,
budget owner, service owner, first level support, second level support, org chart,
someone else, whoever, everyone's job, nobody's job, which team, supposed to,
not my job, formally, written down, defined, in parallel, wait for the other
"""), _chinese("""
职责 岗位职责 责任 负责 谁负责 没人负责 无人负责 责任人 归属 归口 没人管 谁管 主人 分工 角色
岗位 职位说明 头衔 职务 职责范围 授权 权限不清 决定权 拍板 说了算 签字 审批 审批人 批准 指派
分配 没有分配 委派 代理 暂代 交接 接手 接替 空缺 重叠 交叉 重复 重复劳动 各做各的 两个团队
两个部门 两个经理 都以为 以为对方 推诿 推来推去 踢皮球 扯皮 转来转去 真空地带 灰色地带 边界
界限 甩锅 指责 上报路径 升级路径 汇报关系 汇报 双重汇报 多头管理 协调 协调人 牵头 牵头人
导师 对接人 联系人 没人接 跟进 维护人 一线支持 二线支持 组织架构 哪个部门 哪个团队 人人有责
应该由 谁来 谁说了算 正式 写下来 明确 同时开工 等对方
"""))

_MISCONDUCT = (_english("""
misconduct, bribe, bribery, kickback, backhander, red envelope, red packet, gift,
gift card, shopping card, hospitality, trip paid, favour, favouritism, nepotism,
relative, cousin, brother-in-law, family member, conflict of interest, stake,
shareholder, side business, private company, moonlighting, fraud, fraudulent, fake,
faked, false, falsify, falsified, forged, forgery, backdate, backdated, altered,
manipulated, invoice, fake invoice, receipts, expense claim, expenses, reimbursement,
allowance, per diem, timesheet, clock in, clocking, attendance, padded, overtime claims,
payroll fraud, ghost employee, theft, steal, stealing, stole, pocket, pockets, embezzle,
embezzlement, misappropriate, misuse, misused, company funds, welfare fund,
personal use, personal errands, private use, sell, selling, resell, scrap, tender,
bidding, rigged, bid rigging, purchasing, supplier, vendor, contract award, harassment,
sexual harassment, inappropriate comments, touched, unwanted, bullying, bully, shouting,
yelling, humiliate, insult, abuse, abusive, threat, threatened, intimidation, retaliation,
retaliate, punished, punishment, revenge, whistleblower, discrimination, discriminate,
age discrimination, gender discrimination, hukou, disability, pirated, cracked,
unlicensed software, illegal, unlawful, policy violation, breach of policy, compliance,
non-compliance, auditors, delete evidence, destroy documents, cover up, conceal, hide,
lie, lied, dishonest, insider, competitor, source code, cryptocurrency, unpaid,
wage theft, extortion, signed without, fake orders, inflate, cash, commission,
benefit personally, secretly
"""), _chinese("""
违规 违纪 违法 违反 贿赂 行贿 受贿 回扣 好处费 红包 礼品 礼物 购物卡 礼品卡 吃请 宴请 旅游 招待
利益输送 偏袒 偏心 任人唯亲 裙带 亲戚 表弟 家属 利益冲突 股份 持股 入股 私人公司 兼职 私活
欺诈 骗钱 造假 作假 虚假 伪造 篡改 倒签 修改日期 发票 假发票 票据 报销 虚报 冒领 餐补 津贴
考勤 打卡 代打卡 工时 虚报工时 加班费 吃空饷 盗窃 偷 偷拿 私吞 侵占 挪用 贪污 公款 福利基金
私用 私事 卖掉 倒卖 变卖 废品 招标 投标 围标 串标 指定供应商 采购 供应商 中标 骚扰 性骚扰
动手动脚 评头论足 霸凌 欺负 吼 骂 辱骂 羞辱 威胁 恐吓 打击报复 报复 惩罚 穿小鞋 排挤 举报人
歧视 年龄歧视 性别歧视 地域歧视 婚育歧视 残疾 盗版 破解 破解版 未授权软件 合规 不合规
审计 删邮件 销毁证据 销毁文件 掩盖 隐瞒 撒谎 说谎 内幕 泄密给 竞争对手 源代码 挖矿 无偿 克扣
欠薪 收钱 签字造假 假订单 冲业绩 虚增 现金 提成 私下 中饱私囊 好处 偷偷
"""))

_SUGGESTION = (_english("""
suggest, suggestion, propose, proposal, idea, ideas, thought, recommend, recommendation,
improve, improvement, better, enhance, optimise, optimize, streamline, simplify, simpler,
easier, faster, quicker, efficient, efficiency, productivity, save time, save money,
reduce cost, could we, we could, it would help, would be great, would be nice, how about,
why not, maybe, perhaps, might, consider, please consider, worth, worth trying,
try, trial, pilot, experiment, introduce, adopt, set up, launch, encourage, motivate,
share knowledge, knowledge sharing, learning, training, course, workshop, classes,
mentoring, buddy, rotation, cross-training, hackathon, innovation, innovation fund,
initiative, wiki, knowledge base, faq, self-service, template, checklist, guideline,
glossary, dashboard, automate, automation, tooling, standard image, reuse, recycle,
retrospective, lessons learned, best practice, regular, session, talks, lunch-and-learn,
idea box, flexible, flexible hours, hybrid, dark mode, feature request,
nice to have, wish, hope, future, going forward, win-win, instead, rather than,
could help, would make, should
"""), _chinese("""
建议 提议 提个建议 意见 想法 点子 主意 推荐 改进 改善 优化 提升 完善 更好 更方便 更简单 简化
更快 高效 效率 生产力 节省时间 省时间 省钱 降低成本 能不能 能否 是否可以 可不可以 可以考虑
不妨 何不 要是能 也许 或许 也可以 考虑 值得 值得一试 尝试 试试 试行 试点 引入 采用 搭建
建立 设立 推出 鼓励 激励 知识分享 分享会 学习 培训 课程 工作坊 讲座 导师制 老带新 轮岗
交叉培训 黑客马拉松 创新 创新基金 倡议 知识库 常见问题 自助 模板 清单 指南 词汇表 看板
自动化 工具化 标准镜像 重复利用 回收利用 复盘 经验总结 最佳实践 定期 分享 午间分享 意见箱 弹性
弹性工作 混合办公 深色模式 希望 期待 未来 双赢 与其 不如 会更好 就太好了 轮流
"""))

_OTHER = (_english("""
parking, car park, parking space, bike, bicycle, bike rack, canteen, cafeteria, lunch,
meals, food, menu, prices, portions, vegetarian, coffee, coffee machine, tea, tea room,
fridge, vending machine, snacks, shuttle, shuttle bus, bus, commute, metro, transport,
car pool, company car, travel agency, flights, business trip, corporate card, payslip,
salary slip, deduction, tax, pay day, salary, bonus, year-end bonus, subsidy,
housing fund, social insurance, pension, insurance, health insurance, dental,
medical check-up, annual leave, leave balance, holiday, public holiday, holiday calendar,
vacation, visa, work permit, residence permit, relocation allowance, housing, dormitory,
accommodation, hot water, locker, changing room, uniform, staff card, business card,
name card, lost property, lost and found, umbrella, annual dinner, year-end party,
new year party, lucky draw, team building, outing, party, event, festival, mid-autumn,
mooncakes, spring festival, dragon boat, birthday, sports, football, basketball,
badminton, club, gym, fitness, yoga, charity, volunteering, discount, staff discount,
employee discount, childcare, kindergarten, plants, photos, directory, general question,
question, enquiry, who do i ask, how do i, does the company
"""), _chinese("""
停车 停车位 车位 停车场 自行车 车棚 食堂 餐厅 午饭 午餐 饭菜 伙食 菜单 价格 分量 素食 咖啡
咖啡机 茶 茶水间 冰箱 售货机 零食 班车 通勤 地铁 交通 公务用车 用车 差旅 机票 航班 出差
公司信用卡 工资条 扣款 个税 发薪 工资 奖金 年终奖 补贴 安家补贴 公积金 社保 五险一金 养老金
保险 医疗保险 补充医疗 看牙 年度体检 年假 假期余额 放假 节假日 放假安排 休假 调休 签证 工作许可
居留许可 调动 住房 宿舍 住宿 热水 储物柜 更衣室 工服 工牌 名片 失物招领 雨伞 年会 新年晚会
抽奖 团建 聚餐 郊游 活动 节日 中秋 月饼 春节 端午 粽子 生日 运动 足球 篮球 羽毛球 俱乐部
健身房 健身 瑜伽 公益 志愿者 折扣 员工折扣 内购 托育 幼儿园 绿植 照片 通讯录 咨询 请问 问一下
想问 有没有 怎么办理 找谁
"""))

#: code -> (English terms, Chinese terms). Codes are those of DEFAULT_CATEGORIES.
KEYWORDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "it_fault": _IT_FAULT,
    "security": _SECURITY,
    "environment": _ENVIRONMENT,
    "communication": _COMMUNICATION,
    "roles": _ROLES,
    "misconduct": _MISCONDUCT,
    "suggestion": _SUGGESTION,
    "other": _OTHER,
}
