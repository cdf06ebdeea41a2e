"""What the demo hazards say: descriptions by sector, places away from enterprises, the five implementations of a
major hazard, comments and names. Words only; `models.demo_hazards` draws from them."""

from __future__ import annotations

from models.hazards.model import Kind

_C, _B, _M = Kind.CONDITION, Kind.BEHAVIOUR, Kind.MANAGEMENT

# sector: (description, kind) of general hazards at its enterprises
GENERAL: dict[str, tuple[tuple[str, Kind], ...]] = {
    "industry_trade": (
        ("冲压设备光电保护装置失效", _C),
        ("砂轮机防护罩缺失", _C),
        ("车间安全通道堆放原料", _C),
        ("有限空间作业未执行审批制度", _M),
        ("员工打磨作业未佩戴防尘口罩", _B),
        ("除尘器泄爆片锈蚀未更换", _C),
    ),
    "crowded_place": (
        ("消防通道被杂物堵塞", _C),
        ("安全出口上锁", _C),
        ("应急照明灯不亮", _C),
        ("疏散指示标志损坏", _C),
        ("消防控制室值班人员无证上岗", _B),
        ("未开展员工消防安全培训", _M),
    ),
    "construction": (
        ("脚手架连墙件缺失", _C),
        ("临边洞口未设防护栏杆", _C),
        ("高处作业人员未系安全带", _B),
        ("塔吊司机无证上岗", _B),
        ("临时用电未实行三级配电两级保护", _C),
    ),
    "road_transport": (
        ("客车安全锤缺失", _C),
        ("动态监控平台无专人值守", _M),
        ("驾驶员超时驾驶未纠正", _B),
        ("站内危险品查堵设备故障", _C),
    ),
    "hazardous_chemicals": (
        ("储罐区可燃气体报警仪未定期检定", _C),
        ("加油机静电接地线断开", _C),
        ("危化品仓库未按禁忌分区存放", _C),
        ("装卸作业人员未持证上岗", _B),
        ("安全阀超期未校验", _C),
        ("防雷检测报告过期", _M),
    ),
    "gas": (
        ("液化气钢瓶超期未检", _C),
        ("燃气泄漏报警装置失效", _C),
        ("瓶库通风不良", _C),
        ("充装人员未持证上岗", _B),
    ),
    "special_equipment": (
        ("电梯超期未检验", _C),
        ("锅炉安全阀未校验", _C),
        ("叉车司机无证作业", _B),
        ("压力容器压力表损坏", _C),
    ),
    "non_coal_mine": (
        ("采场边坡浮石未清理", _C),
        ("爆破器材库值守人员脱岗", _B),
        ("排土场截排水沟堵塞", _C),
        ("井下作业人员未佩戴自救器", _B),
    ),
    "fireworks": (
        ("中转库超量储存", _C),
        ("工房作业人员超员", _B),
        ("防静电设施失效", _C),
        ("药物混合工房防护屏障缺失", _C),
    ),
    "waterway_transport": (
        ("渡船救生衣配备不足", _C),
        ("码头未设安全警示标志", _C),
        ("船员未持证上岗", _B),
    ),
    "other": (
        ("仓库灭火器过期", _C),
        ("配电房无绝缘垫", _C),
        ("未建立隐患排查治理台账", _M),
    ),
}
# Said of any enterprise, now and then
ANYWHERE: tuple[tuple[str, Kind], ...] = (
    ("灭火器压力不足", _C),
    ("配电箱未上锁，电线私拉乱接", _C),
    ("安全生产责任制未落实到岗位", _M),
    ("应急预案未按期演练", _M),
    ("作业人员未按规定佩戴劳动防护用品", _B),
)
# sector: (description, measures) of a major hazard (重大隐患) at its enterprises
MAJOR: dict[str, tuple[str, str]] = {
    "hazardous_chemicals": ("构成重大危险源的储罐区未设置紧急切断装置", "停用相关储罐，增设紧急切断阀并接入联锁"),
    "non_coal_mine": ("露天采场未按设计分台阶开采，边坡超高超陡", "停止采场作业，按设计削坡分台阶"),
    "fireworks": ("生产区工房超量存药，内部安全距离不足", "清理超量药物，停用不合规工房"),
    "construction": ("深基坑未按专项方案支护，出现明显变形", "停止基坑作业，回填反压并按方案加固"),
    "gas": ("燃气管道被违章建筑占压", "拆除占压建筑，管道改线"),
    "industry_trade": ("粉尘涉爆除尘系统未设置泄爆、隔爆装置", "停用除尘系统，加装泄爆片和隔爆阀"),
    "crowded_place": ("疏散通道被封堵，安全出口数量不足", "拆除封堵，增设安全出口，停业整改"),
    "special_equipment": ("使用国家明令淘汰的起重设备", "停用并拆除淘汰设备，更换合格设备"),
}
# Away from any enterprise: (description, kind, place with {t} the township's name and {v} the village's, sector)
PLACES: tuple[tuple[str, Kind, str, str], ...] = (
    ("急弯处未设警示标志和防护栏", _C, "G107国道{t}段", "road_transport"),
    ("农用车违规载人", _B, "{v}村道", "road_transport"),
    ("在建自建房脚手架无防护网", _C, "{v}民房工地", "construction"),
    ("农贸市场消防通道被摊位占用", _C, "{t}集镇农贸市场", "crowded_place"),
    ("液化气钢瓶露天堆放无人看管", _C, "{t}老街", "gas"),
    ("无证小作坊违规使用明火", _B, "{v}废弃厂房", "industry_trade"),
    ("流动加油车非法销售成品油", _B, "G107国道{t}段路边", "hazardous_chemicals"),
    ("门店违规存放油漆稀料", _C, "{t}建材一条街", "hazardous_chemicals"),
    ("民房内非法储存烟花爆竹", _C, "{v}民房", "fireworks"),
    ("非法采砂点边坡有垮塌风险", _C, "{t}河段采砂点", "non_coal_mine"),
    ("废弃矿洞未封闭", _C, "{v}后山废弃矿洞", "non_coal_mine"),
)

REPORT_COMMENTS = {
    "patrol": ("网格巡查发现", "日常巡查发现，已拍照"),
    "government_inspection": ("执法检查发现", "“四不两直”检查发现"),
    "self_check": ("企业自查上报",),
    "third_party": ("安全专家检查发现",),
    "tip_off": ("群众举报，现场核实",),
}
START_COMMENTS = ("下达整改通知，限期整改", "已告知企业负责人", None)
PLAN_COMMENTS = ("五落实方案经企业主要负责人签字", "五落实方案经专家论证")
ON_THE_SPOT_COMMENTS = ("现场立即整改到位", "当场清理完毕", "当场责令纠正")
RECTIFIED_COMMENTS = ("已整改完毕，附整改前后照片", "已按要求整改", "已更换并检验合格", "已清理完毕并落实专人管理")
ACCEPT_COMMENTS = ("复核合格，同意销号", "现场复查整改到位，予以销号")
REJECT_COMMENTS = ("整改不到位，限期复查", "整改资料不全，补充后复查")
VOID_COMMENTS = ("重复录入", "经核实不属于安全隐患", "录入错误，已重新上报")
CONTINGENCY_PLANS = ("制定专项应急预案并组织演练", "编制现场处置方案，配备应急物资")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平"
WORKERS = ("师傅", "班长", "电工", "主管")  # who did the work (整改人)
